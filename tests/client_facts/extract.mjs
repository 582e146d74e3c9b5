// Reads an installed @cargo-ai/api (and the @cargo-ai/types it depends on) with the TypeScript
// compiler and prints every operation of the client as JSON on stdout.
//
//   node extract.mjs <dir holding node_modules>
//
// Driven by derive.py, which installs the packages and the compiler into a scratch directory and
// replaces the client's ApiType/DateToString helpers by the identity first, so that the types read
// here are the wire shapes (nulls kept, dates as Date → "date-time" strings).
//
// Two sources per operation:
//  * the route (method, endpoint, which payload fields go to the path, query, body or form, the
//    error reasons) from the JavaScript in build/src/api/<domain>/index.js;
//  * the parameter and result types from the `<Domain>Api` interface in the matching index.d.ts.

import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(process.argv[2]);
const require = createRequire(path.join(root, "package.json"));
const ts = require("typescript");
const apiDir = path.join(root, "node_modules", "@cargo-ai", "api", "build", "src");

// -- the JavaScript side: routes --------------------------------------------------------------

function read(file) {
  return ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
}

function stringOf(node) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  return undefined;
}

/** `payload.uuid` → "uuid"; `uuid` → "uuid". */
function unwrap(expr) {
  // `encodeURIComponent(payload.uuid)` names the same field as `payload.uuid`
  while (ts.isCallExpression(expr) && expr.arguments.length === 1) expr = expr.arguments[0];
  return expr;
}

function leafName(expr) {
  expr = unwrap(expr);
  if (ts.isIdentifier(expr)) return expr.text;
  if (ts.isPropertyAccessExpression(expr)) return expr.name.text;
  return expr.getText();
}

function endpointOf(node) {
  const literal = stringOf(node);
  if (literal !== undefined) return { template: literal, vars: [] };
  if (ts.isTemplateExpression(node)) {
    let template = node.head.text;
    const vars = [];
    for (const span of node.templateSpans) {
      const name = leafName(span.expression);
      vars.push({ name, expr: unwrap(span.expression), encoded: unwrap(span.expression) !== span.expression });
      template += `{${name}}` + span.literal.text;
    }
    return { template, vars };
  }
  throw new Error(`endpoint not understood: ${node.getText()}`);
}

function wirePath(endpoint) {
  return "/v1/" + endpoint.replace(/^\/+/, "");
}

/** Collects, per function, the local names bound from its first parameter by destructuring. */
function bindings(fn) {
  const param = fn.parameters[0];
  const paramName = param && ts.isIdentifier(param.name) ? param.name.text : undefined;
  const byLocal = new Map(); // local name → { prop } | { rest: [excluded props] } | { whole: true }
  if (paramName) byLocal.set(paramName, { whole: true });
  const visit = (node) => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isObjectBindingPattern(node.name) &&
      node.initializer &&
      ts.isIdentifier(node.initializer) &&
      node.initializer.text === paramName
    ) {
      const taken = [];
      for (const el of node.name.elements) {
        if (el.dotDotDotToken) continue;
        const prop = el.propertyName ? el.propertyName.getText() : el.name.getText();
        taken.push(prop);
        byLocal.set(el.name.getText(), { prop });
      }
      for (const el of node.name.elements) {
        if (el.dotDotDotToken) byLocal.set(el.name.getText(), { rest: taken });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(fn.body);
  return { paramName, byLocal };
}

/** What an expression sent as params/payload carries: a list of {wire, source} or {all/rest}. */
function carried(expr, scope) {
  if (ts.isConditionalExpression(expr)) {
    // `payload !== undefined ? payload : {}`
    return carried(expr.whenTrue, scope);
  }
  if (ts.isObjectLiteralExpression(expr)) {
    const fields = [];
    for (const p of expr.properties) {
      if (ts.isShorthandPropertyAssignment(p)) {
        fields.push(sourceOf(p.name.text, p.name, scope));
      } else if (ts.isPropertyAssignment(p)) {
        const wire = p.name.getText();
        const value = p.initializer;
        const local = ts.isIdentifier(value) ? value.text : undefined;
        const src = local !== undefined ? sourceOf(local, value, scope) : { source: leafName(value) };
        fields.push({ ...src, wire });
      } else if (ts.isSpreadAssignment(p)) {
        fields.push(...spreadOf(p.expression, scope));
      } else {
        throw new Error(`payload property not understood: ${p.getText()}`);
      }
    }
    return fields;
  }
  if (ts.isIdentifier(expr)) return spreadOf(expr, scope);
  throw new Error(`payload not understood: ${expr.getText()}`);
}

function sourceOf(local, node, scope) {
  const b = scope.byLocal.get(local);
  if (b && b.prop) return { wire: local, source: b.prop };
  if (b && b.whole) return { wire: local, source: undefined, whole: true };
  return { wire: local, source: local };
}

function spreadOf(expr, scope) {
  const name = ts.isIdentifier(expr) ? expr.text : undefined;
  const b = name !== undefined ? scope.byLocal.get(name) : undefined;
  if (b && b.whole) return [{ all: true }];
  if (b && b.rest) return [{ all: true, except: b.rest }];
  throw new Error(`payload not understood: ${expr.getText()}`);
}

function objectProps(obj) {
  const out = new Map();
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p)) out.set(p.name.getText(), p.initializer);
    else if (ts.isShorthandPropertyAssignment(p)) out.set(p.name.text, p.name);
  }
  return out;
}

function errorReasons(fn) {
  const reasons = new Set();
  const visit = (node) => {
    if (
      ts.isCallExpression(node) &&
      node.expression.getText() === "getErrorWithReasonErrorMessage" &&
      node.arguments.length >= 3 &&
      ts.isObjectLiteralExpression(node.arguments[2])
    ) {
      for (const p of node.arguments[2].properties) reasons.add(p.name.getText());
    }
    ts.forEachChild(node, visit);
  };
  visit(fn.body);
  return [...reasons].sort();
}

/** Every `fetcher.fetch/fetchBlob/uploadFile` call directly in a function (not in nested functions). */
function fetcherCalls(fn) {
  const calls = [];
  const visit = (node) => {
    if (node !== fn && ts.isFunctionDeclaration(node)) return;
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const target = node.expression.expression.getText();
      const kind = node.expression.name.text;
      if (target === "fetcher" && ["fetch", "fetchBlob", "uploadFile"].includes(kind)) calls.push({ kind, node });
    }
    ts.forEachChild(node, visit);
  };
  visit(fn.body);
  return calls;
}

/** The names appended to a FormData in the function, with whether they are appended conditionally. */
function formFields(fn, scope) {
  const fields = [];
  const visit = (node, conditional) => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === "append" &&
      node.arguments.length === 2
    ) {
      const wire = stringOf(node.arguments[0]);
      const local = leafName(node.arguments[1]);
      fields.push({ ...sourceOf(local, node.arguments[1], scope), wire, conditional });
    }
    ts.forEachChild(node, (child) => visit(child, conditional || ts.isIfStatement(node)));
  };
  visit(fn.body, false);
  return fields;
}

function routeOf(fn) {
  const scope = bindings(fn);
  const calls = fetcherCalls(fn);
  const reasons = errorReasons(fn);
  if (calls.length !== 1) throw new Error(`${fn.name ? fn.name.text : fn.getText().slice(0, 80)}: ${calls.length} fetcher calls`);
  const { kind, node } = calls[0];
  const route = { reasons, scope };
  if (kind === "uploadFile") {
    const ep = endpointOf(node.arguments[0]);
    Object.assign(route, { method: "POST", path: wirePath(ep.template), pathVars: ep.vars, sends: "multipart" });
    route.fields = formFields(fn, scope).map((f) => ({ ...f, in: "form" }));
    route.response = "upload";
    return route;
  }
  const opts = objectProps(node.arguments[0]);
  const ep = endpointOf(opts.get("endpoint"));
  const method = kind === "fetchBlob" ? "GET" : stringOf(opts.get("method")).toUpperCase();
  Object.assign(route, { method, path: wirePath(ep.template), pathVars: ep.vars });
  route.fields = [];
  if (opts.has("params")) route.fields.push(...carried(opts.get("params"), scope).map((f) => ({ ...f, in: "query" })));
  const hasPayload = opts.has("payload");
  if (hasPayload && method !== "GET") {
    route.fields.push(...carried(opts.get("payload"), scope).map((f) => ({ ...f, in: "body" })));
  }
  if (hasPayload && method === "GET") {
    const dropped = carried(opts.get("payload"), scope);
    if (dropped.length) route.ignoredGetPayload = true;
  }
  route.sends = route.fields.some((f) => f.in === "body") ? "json" : route.fields.length ? "query" : "none";
  if (hasPayload && method !== "GET" && route.sends === "none") route.sends = "json"; // `payload: {}`
  route.response = kind === "fetchBlob" ? "blob" : "json";
  const keepNulls = opts.get("replaceNullByUndefined");
  if (keepNulls && keepNulls.kind === ts.SyntaxKind.FalseKeyword) route.keepsNulls = true;
  const noWs = opts.get("withoutWorkspace");
  if (noWs && noWs.kind === ts.SyntaxKind.TrueKeyword) route.withoutWorkspace = true;
  return route;
}

/** `buildXApi = ({fetcher}) => { function ...; return {group: {op: fn}} }` → [[group, op], fn]. */
function routesOf(file) {
  const sf = read(file);
  const functions = new Map();
  let returned;
  const visit = (node) => {
    if (ts.isFunctionDeclaration(node) && node.name) functions.set(node.name.text, node);
    if (ts.isArrowFunction(node) && ts.isBlock(node.body)) {
      for (const st of node.body.statements) {
        if (!returned && ts.isReturnStatement(st) && st.expression && ts.isObjectLiteralExpression(st.expression)) {
          returned = st.expression;
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  const out = new Map();
  const walk = (obj, prefix) => {
    for (const p of obj.properties) {
      const key = p.name.getText();
      if (ts.isPropertyAssignment(p) && ts.isObjectLiteralExpression(p.initializer)) {
        walk(p.initializer, [...prefix, key]);
        continue;
      }
      const init = ts.isPropertyAssignment(p) ? p.initializer : undefined;
      const inline = init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) ? init : undefined;
      const ref = ts.isShorthandPropertyAssignment(p) ? p.name.text : init.getText();
      const fn = inline || functions.get(ref);
      if (!fn) throw new Error(`${file}: ${key} → ${ref} is not a local function`);
      out.set([...prefix, key].join("."), { fn, route: routeOf(fn) });
    }
  };
  walk(returned, []);
  return out;
}

function rootRoutes() {
  // getInitialisation lives in api/index.js, outside the domain builders.
  const sf = read(path.join(apiDir, "api", "index.js"));
  let found;
  const visit = (node) => {
    if (ts.isFunctionDeclaration(node) && node.name && node.name.text === "getInitialisation") found = node;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return new Map([["getInitialisation", { fn: found, route: routeOf(found) }]]);
}

// -- the type side: parameters and results ------------------------------------------------------

const program = ts.createProgram([path.join(apiDir, "index.d.ts")], {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
  types: [],
});
const checker = program.getTypeChecker();
const definitions = new Map(); // name → schema
const nameOfType = new Map(); // type id → name
const takenNames = new Map(); // name → type id

function isLib(sym) {
  const decl = sym && sym.declarations && sym.declarations[0];
  return Boolean(decl && /[\\/]typescript[\\/]lib[\\/]lib\./.test(decl.getSourceFile().fileName));
}

function fromZod(sym) {
  const decl = sym && sym.declarations && sym.declarations[0];
  return Boolean(decl && /[\\/]node_modules[\\/]zod[\\/]/.test(decl.getSourceFile().fileName));
}

function qualifiedName(sym) {
  const decl = sym.declarations && sym.declarations[0];
  if (!decl) return undefined;
  const file = decl.getSourceFile().fileName;
  const name = checker.getFullyQualifiedName(sym).replace(/^".*"\./, "");
  if (name.startsWith("__")) return undefined;
  if (/[\\/]@cargo-ai[\\/](types|api)[\\/]/.test(file)) return name;
  // A type from another package (the JSON-schema type the client uses) is named after it.
  const pkg = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file);
  return pkg ? `${pkg[1].replace("\\", "/")}:${name}` : undefined;
}

/** A name for a type worth a definition (a declared object type or union of objects), else undefined. */
function definitionName(type) {
  if (type.aliasSymbol) {
    if (type.aliasTypeArguments && type.aliasTypeArguments.length) return undefined;
    return qualifiedName(type.aliasSymbol);
  }
  if (type.flags & ts.TypeFlags.Object && type.objectFlags & ts.ObjectFlags.Interface && type.symbol) {
    return qualifiedName(type.symbol);
  }
  return undefined;
}

function hasObjectPart(type) {
  const parts = type.isUnion() ? type.types : [type];
  return parts.some((t) => t.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection));
}

function canonical(value) {
  return JSON.stringify(value, (k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((key) => [key, v[key]]))
      : v,
  );
}

const stack = [];

/** The JSON-schema-like shape of a TypeScript type. `top` inlines a named type once. */
function schemaOf(type, top = false) {
  if (!top && hasObjectPart(type)) {
    const name = definitionName(type);
    if (name !== undefined && !isLib(type.aliasSymbol || type.symbol)) return { $ref: defineType(name, type) };
  }
  return shapeOf(type);
}

function defineType(name, type) {
  const known = nameOfType.get(type.id);
  if (known !== undefined) return known;
  let unique = name;
  for (let n = 2; takenNames.has(unique); n += 1) unique = `${name}#${n}`;
  takenNames.set(unique, type.id);
  nameOfType.set(type.id, unique);
  definitions.set(unique, null); // placeholder: recursive references resolve to the name
  definitions.set(unique, schemaOf(type, true));
  return unique;
}

function shapeOf(type) {
  const F = ts.TypeFlags;
  if (type.flags & (F.Any | F.Unknown)) return {};
  if (type.flags & F.Never) return { not: {} };
  if (type.flags & F.Null) return { type: "null" };
  if (type.flags & (F.Undefined | F.Void)) return { type: "undefined" };
  if (type.flags & F.StringLiteral) return { const: type.value };
  if (type.flags & F.NumberLiteral) return { const: type.value };
  if (type.flags & F.BooleanLiteral) return { const: type.intrinsicName === "true" };
  if (type.flags & F.String || type.flags & F.TemplateLiteral) return { type: "string" };
  if (type.flags & (F.Number | F.BigInt)) return { type: "number" };
  if (type.flags & F.Boolean) return { type: "boolean" };
  if (type.flags & F.NonPrimitive) return { type: "object" }; // `object`
  if (type.flags & F.EnumLiteral && type.isUnion()) return unionShape(type.types);
  if (type.isUnion()) return unionShape(type.types);
  if (type.isIntersection()) {
    const primitive = type.types.find((t) => t.flags & (F.String | F.Number | F.Boolean | F.StringLiteral));
    if (primitive) return shapeOf(primitive); // a branded primitive
    return objectShape(type);
  }
  if (type.flags & F.Object) {
    const sym = type.symbol;
    const name = sym ? sym.getName() : "";
    if (sym && isLib(sym)) {
      if (name === "Date") return { type: "string", format: "date-time" };
      if (name === "Array" || name === "ReadonlyArray") {
        return { type: "array", items: schemaOf(checker.getTypeArguments(type)[0]) };
      }
      if (["Blob", "File", "FormData"].includes(name)) return { format: "binary" };
      if (name === "RegExp") return { type: "string", format: "regex" };
      if (name === "Promise") return schemaOf(checker.getTypeArguments(type)[0]);
    }
    if (fromZod(sym) || checker.getPropertyOfType(type, "_zod")) return { type: "object", format: "json-schema" };
    if (checker.isTupleType(type)) {
      return { type: "array", prefixItems: checker.getTypeArguments(type).map((t) => schemaOf(t)) };
    }
    if (checker.isArrayType(type)) return { type: "array", items: schemaOf(checker.getTypeArguments(type)[0]) };
    const calls = checker.getSignaturesOfType(type, ts.SignatureKind.Call);
    if (calls.length && checker.getPropertiesOfType(type).length === 0) return { format: "function" };
    return objectShape(type);
  }
  throw new Error(`type not understood: ${checker.typeToString(type)}`);
}

function unionShape(members) {
  const F = ts.TypeFlags;
  const nullable = members.some((t) => t.flags & F.Null);
  let rest = members.filter((t) => !(t.flags & (F.Null | F.Undefined | F.Void)));
  const trues = rest.filter((t) => t.flags & F.BooleanLiteral);
  let shapes = [];
  if (trues.length === 2) {
    shapes.push({ type: "boolean" });
    rest = rest.filter((t) => !(t.flags & F.BooleanLiteral));
  }
  const literals = rest.filter((t) => t.flags & (F.StringLiteral | F.NumberLiteral));
  if (literals.length) {
    const values = literals.map((t) => t.value);
    values.sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
    shapes.push(values.length === 1 ? { const: values[0] } : { enum: values });
  }
  for (const t of rest) if (!literals.includes(t)) shapes.push(schemaOf(t));
  // One string type swallows string literals; keep the wider one.
  if (shapes.some((s) => s.type === "string" && !s.format)) shapes = shapes.filter((s) => !("enum" in s || typeof s.const === "string"));
  const unique = [...new Map(shapes.map((s) => [canonical(s), s])).entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => s);
  let shape;
  if (unique.length === 0) shape = { type: "null" };
  else if (unique.length === 1) shape = { ...unique[0] };
  else shape = { anyOf: unique };
  if (nullable && unique.length) shape.nullable = true;
  return shape;
}

function isOptionalType(type) {
  const F = ts.TypeFlags;
  return type.isUnion() && type.types.some((t) => t.flags & (F.Undefined | F.Void));
}

function propertiesOf(type) {
  const out = [];
  for (const prop of checker.getPropertiesOfType(type)) {
    const propType = checker.getTypeOfSymbol(prop);
    const optional = Boolean(prop.flags & ts.SymbolFlags.Optional) || isOptionalType(propType);
    out.push({ name: prop.getName(), optional, type: propType });
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

function objectShape(type) {
  if (stack.includes(type)) throw new Error(`anonymous recursive type: ${checker.typeToString(type)}`);
  stack.push(type);
  try {
    return objectShapeOnce(type);
  } finally {
    stack.pop();
  }
}

function objectShapeOnce(type) {
  const properties = {};
  const required = [];
  for (const p of propertiesOf(type)) {
    const s = schemaOf(p.type);
    properties[p.name] = s;
    if (!p.optional) required.push(p.name);
  }
  const shape = { type: "object", properties, required };
  const index = checker.getIndexInfosOfType(type).find((i) => i.keyType.flags & (ts.TypeFlags.String | ts.TypeFlags.Number));
  if (index) shape.additionalProperties = schemaOf(index.type);
  return shape;
}

// -- joining both sides --------------------------------------------------------------------------

function interfaceMembers(domain) {
  const file = path.join(apiDir, "api", domain, "index.d.ts");
  const sf = program.getSourceFile(file);
  let decl;
  ts.forEachChild(sf, (node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text.endsWith("Api") && !node.name.text.endsWith("DependenciesApi")) {
      if (!node.name.text.endsWith("Dependencies")) decl = node;
    }
  });
  const out = new Map();
  const walk = (type, prefix) => {
    for (const prop of checker.getPropertiesOfType(type)) {
      const propType = checker.getTypeOfSymbol(prop);
      const sigs = checker.getSignaturesOfType(propType, ts.SignatureKind.Call);
      if (sigs.length) out.set([...prefix, prop.getName()].join("."), { prop, signature: sigs[0] });
      else walk(propType, [...prefix, prop.getName()]);
    }
  };
  walk(checker.getTypeAtLocation(decl.name), []);
  return out;
}

function rootMembers() {
  const sf = program.getSourceFile(path.join(apiDir, "api", "index.d.ts"));
  let decl;
  ts.forEachChild(sf, (node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === "Api") decl = node;
  });
  const prop = checker.getPropertyOfType(checker.getTypeAtLocation(decl.name), "getInitialisation");
  const sig = checker.getSignaturesOfType(checker.getTypeOfSymbol(prop), ts.SignatureKind.Call)[0];
  return new Map([["getInitialisation", { prop, signature: sig }]]);
}

function declaredText(prop) {
  const decl = prop.declarations[0];
  const typeNode = decl.type;
  return typeNode ? typeNode.getText().replace(/\s+/g, " ") : checker.typeToString(checker.getTypeOfSymbol(prop));
}

/** The fields of a payload that is one of several object types: optional unless every variant requires it. */
function mergedProperties(variants) {
  const byName = new Map();
  const lists = variants.map((v) => propertiesOf(v));
  for (const list of lists) {
    for (const p of list) {
      const seen = byName.get(p.name);
      if (!seen) byName.set(p.name, { ...p, types: [p.type] });
      else {
        seen.optional = seen.optional || p.optional;
        if (!seen.types.includes(p.type)) seen.types.push(p.type);
      }
    }
  }
  for (const p of byName.values()) {
    if (lists.some((list) => !list.some((q) => q.name === p.name))) p.optional = true;
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function propertySchema(p) {
  if (p.types.length === 1) return schemaOf(p.type);
  return { anyOf: p.types.map((t) => schemaOf(t)) };
}

function paramsOf(id, route, signature) {
  const arg = signature.parameters[0];
  const argType = arg ? checker.getTypeOfSymbol(arg) : undefined;
  const argOptional = arg ? Boolean(arg.valueDeclaration && arg.valueDeclaration.questionToken) : true;
  const F = ts.TypeFlags;
  const nonNull = argType ? checker.getNonNullableType(argType) : undefined;
  const primitive = nonNull && nonNull.flags & (F.String | F.Number | F.StringLiteral | F.Boolean);
  const variants = nonNull && !primitive ? (nonNull.isUnion() ? nonNull.types : [nonNull]) : [];
  const props = mergedProperties(variants);
  const byName = new Map(props.map((p) => [p.name, p]));
  const params = [];
  const add = (wire, where, source, conditional = false) => {
    if (primitive || source === undefined) {
      params.push({ name: wire, in: where, required: !argOptional, schema: schemaOf(nonNull) });
      return;
    }
    const p = byName.get(source);
    if (!p) throw new Error(`${id}: ${source} is not a field of the payload`);
    const entry = { name: wire, in: where, required: !p.optional && !argOptional && !conditional, schema: propertySchema(p) };
    if (source !== wire) entry.clientName = source;
    params.push(entry);
  };
  for (const v of route.pathVars) {
    const b = route.scope.byLocal.get(v.name);
    const src = ts.isPropertyAccessExpression(v.expr) ? v.name : b && b.prop ? b.prop : primitive ? undefined : v.name;
    add(v.name, "path", src);
  }
  for (const f of route.fields) {
    if (f.all) {
      for (const p of props) {
        if (f.except && f.except.includes(p.name)) continue;
        if (!f.except && route.pathVars.some((v) => v.name === p.name)) continue;
        add(p.name, f.in, p.name);
      }
      continue;
    }
    if (f.whole) {
      add(f.wire, f.in, undefined);
      continue;
    }
    if (["onProgress", "onComplete", "onError"].includes(f.source)) continue;
    add(f.wire, f.in, f.source, f.conditional);
  }
  if (variants.length > 1) {
    // Which fields each alternative shape of the payload requires (e.g. appUuid | workerUuid).
    const sent = new Set(params.map((p) => p.clientName || p.name));
    const oneOf = variants.map((v) => propertiesOf(v).filter((p) => !p.optional && sent.has(p.name)).map((p) => p.name));
    const keys = new Map(oneOf.map((names) => [names.join(","), names]));
    if (keys.size > 1) params.oneOf = [...keys.values()].sort((a, b) => (a.join() < b.join() ? -1 : 1));
  }
  const order = { path: 0, query: 1, body: 2, form: 3 };
  params.sort((a, b) => order[a.in] - order[b.in] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return params;
}

function resultOf(route, signature) {
  const ret = checker.getReturnTypeOfSignature(signature);
  const inner = checker.getTypeArguments(ret)[0] || ret;
  if (inner.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) return null;
  return schemaOf(inner, true);
}

function operations() {
  const domains = fs
    .readdirSync(path.join(apiDir, "api"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const ops = [];
  const sources = [["", rootRoutes(), rootMembers()]];
  for (const domain of domains) {
    sources.push([domain, routesOf(path.join(apiDir, "api", domain, "index.js")), interfaceMembers(domain)]);
  }
  for (const [domain, routes, members] of sources) {
    const names = [...new Set([...routes.keys(), ...members.keys()])].sort();
    for (const name of names) {
      const id = domain ? `${domain}.${name}` : name;
      const r = routes.get(name);
      const m = members.get(name);
      if (!r || !m) throw new Error(`${id}: ${r ? "no type in the interface" : "no function in the builder"}`);
      const { route } = r;
      const op = {
        id,
        domain: domain || "(root)",
        operation: name,
        method: route.method,
        path: route.path,
        sends: route.sends,
        params: paramsOf(id, route, m.signature),
        response: route.response,
        result: route.response === "json" ? resultOf(route, m.signature) : null,
        errors: route.reasons,
        declared: declaredText(m.prop),
      };
      if (op.params.oneOf) op.requiredOneOf = op.params.oneOf;
      if (route.keepsNulls) op.keepsNulls = true;
      if (route.withoutWorkspace) op.withoutWorkspace = true;
      if (route.ignoredGetPayload) op.getPayloadIgnored = true;
      ops.push(op);
    }
  }
  return ops;
}

const ops = operations();
const defs = Object.fromEntries([...definitions.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
process.stdout.write(JSON.stringify({ operations: ops, definitions: defs, typescript: ts.version }));
