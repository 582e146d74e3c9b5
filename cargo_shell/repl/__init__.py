"""The conversational shell: prompt, completion, toolbar, slash commands and rendering."""
