#!/usr/bin/env node
// Independent verification oracle for Nitro attestation documents and NSM
// messages. Shares no code with the C++ implementation: CBOR is handled by
// cbor-x, X.509 and ECDSA by Node's built-in crypto (OpenSSL). Layout and
// procedure follow spec/nsm.md.
//
//   node attestation_oracle.mjs verify DOC_FILE --root ROOT(PEM|DER) [--at UNIX_SECONDS|document|now]
//   node attestation_oracle.mjs decode-nsm HEX_OR_FILE [--message-only]
//
// verify prints {"ok", "checks", "errors", "at", "module_id", "timestamp",
// "pcrs", "public_key", "user_data", "nonce"} and exits 0 iff ok.
// decode-nsm prints {"message", "variant", "kind", "schema_ok", "errors",
// "warnings", "reencode_matches"} (or only the message with --message-only)
// and exits 0 iff the bytes decode and match an nsm.md message shape.

import { readFileSync, existsSync } from 'node:fs';
import { X509Certificate, verify as cryptoVerify } from 'node:crypto';
// Use cbor-x's pure-JS decoder everywhere (same behaviour whether or not the
// optional native cbor-extract prebuild is installed on this host).
process.env.CBOR_NATIVE_ACCELERATION_DISABLED = 'true';
const { Decoder, Encoder, Tag, isNativeAccelerationEnabled } = await import('cbor-x');
if (isNativeAccelerationEnabled) throw new Error('cbor-x native acceleration unexpectedly enabled');

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false });

const isBytes = (v) => v instanceof Uint8Array;
const isUint = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n);
const isMap = (v) => v instanceof Map;
const hex = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const plainBytes = (b) => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

function usage(msg) {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(
    'usage:\n' +
    '  node attestation_oracle.mjs verify DOC_FILE --root ROOT(PEM|DER) [--at UNIX_SECONDS|document|now]\n' +
    '  node attestation_oracle.mjs decode-nsm HEX_OR_FILE [--message-only]\n');
  process.exit(2);
}

// JSON view of a decoded CBOR value: bytes as hex, bigints as numbers when
// safe (else decimal strings), maps as objects (keys stringified).
function toJson(v) {
  if (v === null || v === undefined) return null;
  if (isBytes(v)) return hex(v);
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(toJson);
  if (isMap(v)) {
    const o = {};
    for (const [k, val] of v) o[typeof k === 'string' ? k : String(toJson(k))] = toJson(val);
    return o;
  }
  if (v instanceof Tag) return { tag: Number(v.tag), value: toJson(v.value) };
  if (typeof v === 'object') {
    const o = {};
    for (const [k, val] of Object.entries(v)) o[k] = toJson(val);
    return o;
  }
  return v;
}

// ---------------------------------------------------------------- verify

// X509Certificate.validFrom/validTo are OpenSSL strings such as
// "Oct 16 02:54:39 2025 GMT"; Node 22.10+ also offers Date objects.
function certTimes(cert) {
  const nb = cert.validFromDate instanceof Date ? cert.validFromDate.getTime() : Date.parse(cert.validFrom);
  const na = cert.validToDate instanceof Date ? cert.validToDate.getTime() : Date.parse(cert.validTo);
  if (Number.isNaN(nb) || Number.isNaN(na)) throw new Error(`cannot parse validity of ${cert.subject}`);
  return { notBefore: nb / 1000, notAfter: na / 1000 };
}

function cn(cert) {
  const m = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject);
  return m ? m[1] : cert.subject.replace(/\n/g, ', ');
}

function cmdVerify(args) {
  let docFile = null, rootFile = null, at = 'now';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--root') rootFile = args[++i];
    else if (args[i] === '--at') at = args[++i];
    else if (args[i].startsWith('--')) usage(`unknown option ${args[i]}`);
    else if (docFile === null) docFile = args[i];
    else usage(`unexpected argument ${args[i]}`);
  }
  if (!docFile || !rootFile || at === undefined) usage('verify needs DOC_FILE and --root');
  if (at !== 'now' && at !== 'document' && !/^\d+$/.test(at)) usage('--at takes UNIX_SECONDS, "document" or "now"');

  const checks = {};
  const errors = [];
  const out = { ok: false, checks, errors, at: null, module_id: null, timestamp: null, pcrs: {}, public_key: null, user_data: null, nonce: null };
  const fail = (name, msg) => { checks[name] = false; errors.push(`${name}: ${msg}`); };
  const finish = () => {
    out.ok = errors.length === 0 && Object.values(checks).every((v) => v === true);
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    process.exit(out.ok ? 0 : 1);
  };

  // 1. COSE_Sign1 envelope.
  let raw;
  try { raw = readFileSync(docFile); } catch (e) { usage(`cannot read ${docFile}: ${e.message}`); }
  let cose;
  try {
    cose = decoder.decode(raw);
  } catch (e) { fail('cose_decode', e.message); return finish(); }
  checks.cose_decode = true;
  if (cose instanceof Tag) {
    if (Number(cose.tag) !== 18) { fail('cose_structure', `unexpected tag ${cose.tag}`); return finish(); }
    cose = cose.value;
  }
  if (!Array.isArray(cose) || cose.length !== 4 || !isBytes(cose[0]) || !isMap(cose[1]) || !isBytes(cose[2]) || !isBytes(cose[3])) {
    fail('cose_structure', 'not [bstr protected, map unprotected, bstr payload, bstr signature]'); return finish();
  }
  checks.cose_structure = true;
  const [protectedBytes, , payloadBytes, signature] = cose;

  let prot;
  try { prot = protectedBytes.length ? decoder.decode(protectedBytes) : new Map(); } catch (e) { fail('protected_alg', `protected header: ${e.message}`); }
  if (prot !== undefined) {
    const alg = isMap(prot) ? prot.get(1) : undefined;
    if (alg === -35) checks.protected_alg = true; else fail('protected_alg', `alg is ${alg}, want -35 (ES384)`);
  }
  if (signature.length === 96) checks.signature_length = true; else fail('signature_length', `${signature.length} bytes, want 96`);

  // 2. Payload.
  let doc;
  try { doc = decoder.decode(payloadBytes); } catch (e) { fail('payload_decode', e.message); return finish(); }
  if (!isMap(doc)) { fail('payload_decode', 'payload is not a map'); return finish(); }
  checks.payload_decode = true;

  const perr = [];
  const moduleId = doc.get('module_id');
  if (typeof moduleId !== 'string' || moduleId.length === 0) perr.push('module_id not a non-empty text string');
  else out.module_id = moduleId;
  if (doc.get('digest') !== 'SHA384') perr.push(`digest is ${JSON.stringify(toJson(doc.get('digest')))}, want "SHA384"`);
  const ts = doc.get('timestamp');
  if (!isUint(ts) || BigInt(ts) === 0n) perr.push('timestamp not a positive integer');
  else out.timestamp = toJson(ts);
  const pcrs = doc.get('pcrs');
  if (!isMap(pcrs) || pcrs.size < 1 || pcrs.size > 32) perr.push('pcrs not a map of 1..32 entries');
  else {
    for (const [k, v] of pcrs) {
      if (!isUint(k) || Number(k) > 31) { perr.push(`pcr index ${toJson(k)} out of range`); continue; }
      if (!isBytes(v) || ![32, 48, 64].includes(v.length)) { perr.push(`pcr ${k} not a 32/48/64-byte string`); continue; }
      out.pcrs[String(k)] = hex(v);
    }
  }
  const certDer = doc.get('certificate');
  if (!isBytes(certDer) || certDer.length === 0) perr.push('certificate not a non-empty byte string');
  const cabundle = doc.get('cabundle');
  if (!Array.isArray(cabundle) || cabundle.length === 0) perr.push('cabundle not a non-empty array');
  else cabundle.forEach((c, i) => { if (!isBytes(c) || c.length < 1 || c.length > 1024) perr.push(`cabundle[${i}] not a 1..1024-byte string`); });
  for (const f of ['public_key', 'user_data', 'nonce']) {
    const v = doc.get(f);
    if (v === null || v === undefined) continue;
    if (!isBytes(v) || v.length > 1024) perr.push(`${f} not null or a 0..1024-byte string`);
    else out[f] = hex(v);
  }
  if (perr.length) { checks.payload_structure = false; for (const m of perr) errors.push(`payload_structure: ${m}`); return finish(); }
  checks.payload_structure = true;

  // Validation time.
  let T;
  if (at === 'document') T = Number(BigInt(ts) / 1000n);
  else if (at === 'now') T = Math.floor(Date.now() / 1000);
  else T = Number(at);
  out.at = T;

  // 3. Chain: leaf <- cabundle[n-1] <- ... <- cabundle[1] (<- cabundle[0]) <- given root.
  let root, leaf, bundle;
  let rootBytes;
  try { rootBytes = readFileSync(rootFile); } catch (e) { usage(`cannot read ${rootFile}: ${e.message}`); }
  try { root = new X509Certificate(rootBytes); } catch (e) { fail('root_parse', e.message); return finish(); }
  try {
    leaf = new X509Certificate(Buffer.from(certDer));
    bundle = cabundle.map((c) => new X509Certificate(Buffer.from(c)));
  } catch (e) { fail('cert_parse', e.message); return finish(); }
  checks.cert_parse = true;

  let intermediates; // ordered from the one issued by the root down to the leaf's issuer
  if (Buffer.from(cabundle[0]).equals(root.raw)) {
    checks.cabundle_root = true;
    out.cabundle_root = 'equal';
    intermediates = bundle.slice(1);
  } else if (bundle[0].checkIssued(root) && bundle[0].verify(root.publicKey)) {
    checks.cabundle_root = true;
    out.cabundle_root = 'issued_by_root';
    intermediates = bundle;
  } else {
    fail('cabundle_root', 'cabundle[0] is neither the given root nor issued by it');
    intermediates = bundle.slice(1);
  }

  const path = [root, ...intermediates, leaf]; // path[i] issues path[i+1]
  const chainErr = [];
  if (!(root.checkIssued(root) && root.verify(root.publicKey))) chainErr.push('root is not self-signed');
  for (let i = 1; i < path.length; i++) {
    const subj = path[i], iss = path[i - 1];
    if (!subj.checkIssued(iss)) chainErr.push(`${cn(subj)}: checkIssued(${cn(iss)}) failed`);
    if (!subj.verify(iss.publicKey)) chainErr.push(`${cn(subj)}: signature does not verify with ${cn(iss)}'s key`);
    if (!iss.ca) chainErr.push(`${cn(iss)}: issuer is not a CA`);
  }
  if (leaf.ca) chainErr.push(`${cn(leaf)}: leaf is a CA`);
  for (const c of path) {
    const d = c.publicKey.asymmetricKeyDetails || {};
    if (c.publicKey.asymmetricKeyType !== 'ec' || d.namedCurve !== 'secp384r1') chainErr.push(`${cn(c)}: key is not EC P-384`);
  }
  if (chainErr.length) { checks.chain = false; for (const m of chainErr) errors.push(`chain: ${m}`); } else checks.chain = true;

  // 4. Validity of every certificate at T (RFC 5280: both bounds inclusive).
  const valErr = [];
  out.certificates = path.map((c) => {
    const { notBefore, notAfter } = certTimes(c);
    const valid = notBefore <= T && T <= notAfter;
    if (!valid) valErr.push(`${cn(c)}: not valid at ${T} (${c.validFrom} .. ${c.validTo})`);
    return { subject_cn: cn(c), not_before: notBefore, not_after: notAfter, valid_at: valid };
  });
  if (valErr.length) { checks.validity = false; for (const m of valErr) errors.push(`validity: ${m}`); } else checks.validity = true;

  // 5. COSE signature over Sig_structure = ["Signature1", protected, h'', payload].
  const sigStructure = encoder.encode(['Signature1', plainBytes(protectedBytes), new Uint8Array(0), plainBytes(payloadBytes)]);
  let sigOk = false;
  try {
    sigOk = cryptoVerify('sha384', sigStructure, { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch (e) { errors.push(`signature: ${e.message}`); }
  if (sigOk) checks.signature = true; else fail('signature', 'ECDSA P-384/SHA-384 over Sig_structure does not verify with the leaf key');

  finish();
}

// ---------------------------------------------------------------- decode-nsm

// Field types: 'uint', 'bytes', 'bytes?' (bytes or null), 'bool', 'text', 'uint[]'.
const SCHEMA = {
  request: {
    DescribePCR: { fields: [['index', 'uint']] },
    ExtendPCR: { fields: [['index', 'uint'], ['data', 'bytes']] },
    LockPCR: { fields: [['index', 'uint']] },
    LockPCRs: { fields: [['range', 'uint']] },
    DescribeNSM: { unit: true },
    Attestation: { fields: [['user_data', 'bytes?'], ['nonce', 'bytes?'], ['public_key', 'bytes?']] },
    GetRandom: { unit: true },
  },
  response: {
    DescribePCR: { fields: [['lock', 'bool'], ['data', 'bytes']] },
    ExtendPCR: { fields: [['data', 'bytes']] },
    LockPCR: { unit: true },
    LockPCRs: { unit: true },
    DescribeNSM: { fields: [['version_major', 'uint'], ['version_minor', 'uint'], ['version_patch', 'uint'], ['module_id', 'text'], ['max_pcrs', 'uint'], ['locked_pcrs', 'uint[]'], ['digest', 'text']] },
    Attestation: { fields: [['document', 'bytes']] },
    GetRandom: { fields: [['random', 'bytes']] },
    Error: { newtype: 'text' },
  },
};
const ERROR_CODES = ['Success', 'InvalidArgument', 'InvalidIndex', 'InvalidResponse', 'ReadOnlyIndex', 'InvalidOperation', 'BufferTooSmall', 'InputTooLarge', 'InternalError'];

function typeOk(t, v) {
  switch (t) {
    case 'uint': return isUint(v);
    case 'bytes': return isBytes(v);
    case 'bytes?': return v === null || isBytes(v);
    case 'bool': return typeof v === 'boolean';
    case 'text': return typeof v === 'string';
    case 'uint[]': return Array.isArray(v) && v.every(isUint);
    default: return false;
  }
}

// Check `value` against one schema entry; returns {errors, warnings}.
function checkShape(name, spec, value) {
  const errors = [], warnings = [];
  let unknown = 0;
  if (spec.unit) {
    if (value !== undefined) errors.push(`${name} is a unit variant: expected the bare text string`);
    return { errors, warnings };
  }
  if (spec.newtype) {
    if (!typeOk(spec.newtype, value)) errors.push(`${name} value must be ${spec.newtype}`);
    else if (name === 'Error' && !ERROR_CODES.includes(value)) errors.push(`unknown error code ${JSON.stringify(value)}`);
    return { errors, warnings };
  }
  if (!isMap(value)) { errors.push(`${name} body must be a map`); return { errors, warnings }; }
  const want = spec.fields.map(([f]) => f);
  for (const [f, t] of spec.fields) {
    if (!value.has(f)) errors.push(`${name}.${f} missing`);
    else if (!typeOk(t, value.get(f))) errors.push(`${name}.${f} must be ${t === 'bytes?' ? 'a byte string or null' : t === 'bytes' ? 'a byte string' : t}`);
  }
  const keys = [...value.keys()];
  for (const k of keys) if (!want.includes(k)) { unknown++; warnings.push(`${name}: unknown key ${JSON.stringify(toJson(k))}`); }
  const present = keys.filter((k) => want.includes(k));
  if (present.join('\0') !== want.filter((f) => value.has(f)).join('\0')) warnings.push(`${name}: keys not in declaration order (${present.join(', ')})`);
  return { errors, warnings, unknown };
}

function readInput(arg) {
  if (arg === '-') return readFileSync(0);
  if (existsSync(arg)) return readFileSync(arg);
  const h = arg.replace(/\s+/g, '').replace(/^0x/i, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(h) || h.length === 0) usage(`${arg}: neither a file nor hex`);
  return Buffer.from(h, 'hex');
}

function cmdDecodeNsm(args) {
  let input = null, messageOnly = false;
  for (const a of args) {
    if (a === '--message-only') messageOnly = true;
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (input === null) input = a;
    else usage(`unexpected argument ${a}`);
  }
  if (input === null) usage('decode-nsm needs HEX_OR_FILE');
  const bytes = readInput(input);
  const out = { message: null, variant: null, kind: null, schema_ok: false, errors: [], warnings: [], reencode_matches: null, length: bytes.length };
  let msg;
  try { msg = decoder.decode(bytes); } catch (e) {
    out.errors.push(`CBOR: ${e.message}`);
    process.stdout.write(JSON.stringify(messageOnly ? null : out, null, 2) + '\n');
    process.exit(1);
  }
  out.message = toJson(msg);

  let name, body;
  if (typeof msg === 'string') { name = msg; body = undefined; }
  else if (isMap(msg) && msg.size === 1 && typeof [...msg.keys()][0] === 'string') { [[name, body]] = [...msg]; }
  else out.errors.push('not a text string or a one-entry map keyed by a variant name');

  if (name !== undefined) {
    out.variant = name;
    const matches = [];
    let lastFail = null;
    for (const kind of ['request', 'response']) {
      const spec = SCHEMA[kind][name];
      if (!spec) continue;
      const r = checkShape(name, spec, body);
      if (r.errors.length === 0) matches.push({ kind, ...r }); else lastFail = r;
    }
    // Prefer a shape that explains every key (e.g. ExtendPCR {index, data} is the request).
    const exact = matches.filter((m) => !m.unknown);
    const best = exact.length ? exact : matches;
    for (const m of best) out.warnings.push(...m.warnings);
    if (best.length === 1) out.kind = best[0].kind;
    else if (best.length === 2) out.kind = 'request_or_response';
    else if (lastFail) out.errors.push(...lastFail.errors);
    else out.errors.push(`unknown variant ${JSON.stringify(name)}`);
  }

  // Re-encode with cbor-x (definite lengths, shortest integers, plain bstr) to
  // flag non-canonical input such as indefinite lengths or tagged byte strings.
  try {
    out.reencode_matches = Buffer.from(encoder.encode(msg)).equals(bytes);
    if (!out.reencode_matches) out.warnings.push('re-encoding with cbor-x gives different bytes (non-shortest or indefinite lengths, tags, or float/int width)');
  } catch (e) { out.warnings.push(`re-encode failed: ${e.message}`); }

  out.schema_ok = out.errors.length === 0;
  process.stdout.write(JSON.stringify(messageOnly ? out.message : out, null, 2) + '\n');
  process.exit(out.schema_ok ? 0 : 1);
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'verify') cmdVerify(rest);
else if (cmd === 'decode-nsm') cmdDecodeNsm(rest);
else usage(cmd ? `unknown command ${cmd}` : null);
