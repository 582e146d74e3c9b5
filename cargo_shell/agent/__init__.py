"""The conversational agent: the seven skill tools, the model seam and the tool-calling loop."""
