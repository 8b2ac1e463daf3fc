#!/usr/bin/env node
// Third-party clients against odyn's internal and aux APIs (spec/api.md), as
// an app inside the enclave would use them: ethers v6 for the Ethereum
// endpoints, Node's WebCrypto (crypto.subtle) for the encryption scheme,
// fetch for HTTP. Shares no code with the C++ implementation.
//
//   node api_oracle.mjs --api http://127.0.0.1:9000 --aux http://127.0.0.1:9001 --out DIR
//
// Prints {"ok", "address", "checks": [{"name", "ok", "detail"}]} and exits 0
// iff every check passed. The attestation documents it asked for are left
// in DIR, with DIR/documents.json listing for each {"name", "file",
// "nonce_hex" (null: none asked), "user_data_hex", "public_key_hex"}: what
// the document must carry. The caller verifies them (enclaver
// verify-attestation and attestation_oracle.mjs).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { webcrypto, generateKeyPairSync, randomBytes } from 'node:crypto';
import { ethers } from 'ethers';

const { subtle } = webcrypto;
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) => {
  if (arg.startsWith('--')) pairs.push([arg.slice(2), all[i + 1]]);
  return pairs;
}, []));
const api = args.api;
const aux = args.aux;
const out = args.out;

const checks = [];
const check = (name, ok, detail = '') => checks.push({ name, ok: Boolean(ok), detail: ok ? '' : String(detail) });
const hex = (bytes) => '0x' + Buffer.from(bytes).toString('hex');
const unhex = (text) => new Uint8Array(Buffer.from(text.replace(/^0x/, ''), 'hex'));
const utf8 = (text) => new TextEncoder().encode(text);

async function call(base, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const type = response.headers.get('content-type') || '';
  return { status: response.status, type, bytes, json: type.startsWith('application/json') ? JSON.parse(Buffer.from(bytes).toString()) : null };
}

// ---- identity --------------------------------------------------------------
const identity = await call(api, 'GET', '/v1/eth/address');
const address = identity.json.address;
check('address: 200', identity.status === 200, identity.status);
check('address: EIP-55 checksummed (ethers.getAddress)', ethers.getAddress(address) === address, address);
check('address: is the public key\'s (ethers.computeAddress)', ethers.computeAddress(identity.json.public_key) === address,
      `${identity.json.public_key} -> ${ethers.computeAddress(identity.json.public_key)}`);
const auxIdentity = await call(aux, 'GET', '/v1/eth/address');
check('aux address: the same identity', auxIdentity.json?.address === address, JSON.stringify(auxIdentity.json));

// ---- personal_sign -----------------------------------------------------------
for (const message of ['hello from the enclave', 'ünïcödé ✓ and\nnew lines', 'x'.repeat(5000)]) {
  const signed = await call(api, 'POST', '/v1/eth/sign', { message });
  const label = `sign ${JSON.stringify(message.slice(0, 20))}`;
  check(`${label}: 200`, signed.status === 200, JSON.stringify(signed.json));
  const signer = ethers.verifyMessage(message, signed.json.signature);
  check(`${label}: ethers.verifyMessage recovers the address`, signer === address, signer);
  const v = ethers.Signature.from(signed.json.signature).v;
  const lastByte = unhex(signed.json.signature)[64];
  check(`${label}: v is 27 or 28`, lastByte === 27 || lastByte === 28, `last byte ${lastByte}, v ${v}`);
  check(`${label}: no attestation unless asked`, signed.json.attestation === null, signed.json.attestation);
}

const documents = [];
function keep(name, bytes, expected) {
  const file = join(out, `${name}.cbor`);
  writeFileSync(file, bytes);
  documents.push({ name, file, ...expected });
}
const ethAddrJson = utf8(JSON.stringify({ eth_addr: address }));
const secpSpki = (() => {
  // SubjectPublicKeyInfo of the secp256k1 key, built here from the public key.
  const prefix = '3056301006072a8648ce3d020106052b8104000a034200';
  return unhex(prefix + identity.json.public_key.slice(2));
})();

{
  const message = 'bind this message';
  const signed = await call(api, 'POST', '/v1/eth/sign', { message, include_attestation: true });
  check('sign with attestation: 200', signed.status === 200, JSON.stringify(signed.json));
  check('sign with attestation: still recovers', ethers.verifyMessage(message, signed.json.signature) === address);
  keep('sign', Buffer.from(signed.json.attestation, 'base64'),
       { nonce_hex: ethers.hashMessage(message).slice(2), user_data_hex: hex(ethAddrJson).slice(2), public_key_hex: hex(secpSpki).slice(2) });
}

// ---- EIP-1559 transactions -----------------------------------------------
const structured = {
  'simple transfer': { chain_id: '0x1', nonce: 0, max_priority_fee_per_gas: '0x3b9aca00', max_fee_per_gas: '0x77359400', gas_limit: 21000,
                       to: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', value: '0xde0b6b3a7640000', data: '0x' },
  'contract creation': { chain_id: 11155111, nonce: '0x2a', max_priority_fee_per_gas: '0x1', max_fee_per_gas: '0x2', gas_limit: '0x1e8480',
                         data: '0x6080604052348015600f57600080fd5b50' },
  'access list': { chain_id: '0x89', nonce: '0xffff', max_priority_fee_per_gas: '0x0', max_fee_per_gas: '0x174876e800', gas_limit: '0x30d40',
                   to: '0xde709f2102306220921060314715629080e2fb77', value: '0x0', data: '0xa9059cbb',
                   access_list: [
                     { address: '0xde709f2102306220921060314715629080e2fb77',
                       storage_keys: ['0x' + '00'.repeat(31) + '01', '0x' + 'ab'.repeat(32)] },
                     { address: '0x27b1fdb04752bbc536007a920d24acb045561c26', storage_keys: [] },
                   ] },
};
const quantity = (q) => BigInt(typeof q === 'number' ? q : (q.startsWith('0x') ? q : '0x' + q));
function compare(label, tx, fields) {
  check(`${label}: type 2`, tx.type === 2, tx.type);
  check(`${label}: chain id`, tx.chainId === quantity(fields.chain_id), tx.chainId);
  check(`${label}: nonce`, BigInt(tx.nonce) === quantity(fields.nonce), tx.nonce);
  check(`${label}: fees`, tx.maxPriorityFeePerGas === quantity(fields.max_priority_fee_per_gas) && tx.maxFeePerGas === quantity(fields.max_fee_per_gas));
  check(`${label}: gas limit`, tx.gasLimit === quantity(fields.gas_limit), tx.gasLimit);
  check(`${label}: to`, (tx.to === null && !fields.to) || (fields.to && tx.to === ethers.getAddress(fields.to)), tx.to);
  check(`${label}: value`, tx.value === quantity(fields.value ?? '0x0'), tx.value);
  check(`${label}: data`, tx.data === (fields.data ?? '0x'), tx.data);
  const expectedList = (fields.access_list ?? []).map((e) => ({ address: ethers.getAddress(e.address), storageKeys: e.storage_keys }));
  check(`${label}: access list`, JSON.stringify(tx.accessList) === JSON.stringify(expectedList), JSON.stringify(tx.accessList));
}
for (const [name, fields] of Object.entries(structured)) {
  const signed = await call(api, 'POST', '/v1/eth/sign-tx', { include_attestation: name === 'simple transfer', payload: { kind: 'structured', ...fields } });
  const label = `sign-tx structured ${name}`;
  check(`${label}: 200`, signed.status === 200, JSON.stringify(signed.json));
  if (signed.status !== 200) continue;
  const tx = ethers.Transaction.from(signed.json.raw_transaction);
  check(`${label}: ethers recovers the signer`, tx.from === address, tx.from);
  check(`${label}: transaction_hash is ethers' hash`, tx.hash === signed.json.transaction_hash, `${tx.hash} vs ${signed.json.transaction_hash}`);
  check(`${label}: signature is r||s||yParity`,
        signed.json.signature === tx.signature.r + tx.signature.s.slice(2) + (tx.signature.yParity ? '01' : '00'), signed.json.signature);
  compare(label, tx, fields);
  if (name === 'simple transfer')
    keep('sign-tx', Buffer.from(signed.json.attestation, 'base64'),
         { nonce_hex: signed.json.transaction_hash.slice(2), user_data_hex: hex(ethAddrJson).slice(2), public_key_hex: hex(secpSpki).slice(2) });

  // The same transaction as unsigned RLP, built by ethers.
  const unsigned = ethers.Transaction.from({
    type: 2, chainId: quantity(fields.chain_id), nonce: Number(quantity(fields.nonce)),
    maxPriorityFeePerGas: quantity(fields.max_priority_fee_per_gas), maxFeePerGas: quantity(fields.max_fee_per_gas),
    gasLimit: quantity(fields.gas_limit), to: fields.to ?? null, value: quantity(fields.value ?? '0x0'), data: fields.data ?? '0x',
    accessList: (fields.access_list ?? []).map((e) => ({ address: e.address, storageKeys: e.storage_keys })),
  });
  const raw = await call(api, 'POST', '/v1/eth/sign-tx', { payload: { kind: 'raw_rlp', raw_payload: unsigned.unsignedSerialized } });
  check(`sign-tx raw_rlp ${name}: 200`, raw.status === 200, JSON.stringify(raw.json));
  if (raw.status !== 200) continue;
  const fromRaw = ethers.Transaction.from(raw.json.raw_transaction);
  check(`sign-tx raw_rlp ${name}: ethers recovers the signer`, fromRaw.from === address, fromRaw.from);
  check(`sign-tx raw_rlp ${name}: hash`, fromRaw.hash === raw.json.transaction_hash);
  check(`sign-tx raw_rlp ${name}: signs what ethers built`, fromRaw.unsignedHash === unsigned.unsignedHash, fromRaw.unsignedHash);
  check(`sign-tx raw_rlp ${name}: same as structured (deterministic signatures)`, raw.json.raw_transaction === signed.json.raw_transaction);
}

// ---- the encryption scheme, with WebCrypto -----------------------------------
async function aesKey(privateKey, peerSpki) {
  const peer = await subtle.importKey('spki', peerSpki, { name: 'ECDH', namedCurve: 'P-384' }, false, []);
  const shared = await subtle.deriveBits({ name: 'ECDH', public: peer }, privateKey, 384);
  const hkdf = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8('encryption data') }, hkdf,
                          { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}
{
  const published = await call(api, 'GET', '/v1/encryption/public_key');
  const enclaveSpki = unhex(published.json.public_key_der);
  const pemBody = published.json.public_key_pem.replace(/-----[A-Z ]+-----|\s/g, '');
  check('public_key: the PEM and the DER are the same key', Buffer.from(pemBody, 'base64').equals(Buffer.from(enclaveSpki)));
  const auxPublished = await call(aux, 'GET', '/v1/encryption/public_key');
  check('aux public_key: the same key', auxPublished.json?.public_key_der === published.json.public_key_der);

  const client = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, true, ['deriveBits']);
  const clientSpki = new Uint8Array(await subtle.exportKey('spki', client.publicKey));
  const key = await aesKey(client.privateKey, enclaveSpki);
  for (const plaintext of ['a secret for the enclave', 'ünïcödé ✓', '']) {
    const nonce = webcrypto.getRandomValues(new Uint8Array(32));
    const sealed = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce.slice(0, 12) }, key, utf8(plaintext)));
    const opened = await call(api, 'POST', '/v1/encryption/decrypt', { nonce: hex(nonce), client_public_key: hex(clientSpki), encrypted_data: hex(sealed) });
    check(`decrypt ${JSON.stringify(plaintext)}: odyn opens what WebCrypto sealed`, opened.status === 200 && opened.json.plaintext === plaintext,
          JSON.stringify(opened.json));
  }
  {
    const nonce = webcrypto.getRandomValues(new Uint8Array(12));  // exactly 12 bytes is allowed
    const sealed = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce }, key, utf8('twelve')));
    const opened = await call(api, 'POST', '/v1/encryption/decrypt', { nonce: hex(nonce).slice(2), client_public_key: hex(clientSpki).slice(2), encrypted_data: hex(sealed).slice(2) });
    check('decrypt: a 12-byte nonce, hex without 0x', opened.status === 200 && opened.json.plaintext === 'twelve', JSON.stringify(opened.json));
    sealed[sealed.length - 1] ^= 1;
    const refused = await call(api, 'POST', '/v1/encryption/decrypt', { nonce: hex(nonce), client_public_key: hex(clientSpki), encrypted_data: hex(sealed) });
    check('decrypt: a wrong tag is 400 "decryption failed"', refused.status === 400 && refused.json.error === 'decryption failed', JSON.stringify(refused.json));
  }
  const encrypted = await call(api, 'POST', '/v1/encryption/encrypt', { plaintext: 'for the client ✓', client_public_key: hex(clientSpki) });
  check('encrypt: 200', encrypted.status === 200, JSON.stringify(encrypted.json));
  const fromEnclave = await aesKey(client.privateKey, unhex(encrypted.json.enclave_public_key));
  const nonce = unhex(encrypted.json.nonce);
  check('encrypt: a 32-byte nonce', nonce.length === 32, nonce.length);
  let plain = null;
  try {
    plain = new TextDecoder().decode(await subtle.decrypt({ name: 'AES-GCM', iv: nonce.slice(0, 12) }, fromEnclave, unhex(encrypted.json.encrypted_data)));
  } catch (e) {
    plain = String(e);
  }
  check('encrypt: WebCrypto opens what odyn sealed', plain === 'for the client ✓', plain);
  const again = await call(api, 'POST', '/v1/encryption/encrypt', { plaintext: 'for the client ✓', client_public_key: hex(clientSpki) });
  check('encrypt: a fresh nonce each call', again.json.nonce !== encrypted.json.nonce);

  // ---- attestation, every input form of api.md --------------------------------
  const caller = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const callerPem = caller.publicKey.export({ type: 'spki', format: 'pem' });
  const callerDer = caller.publicKey.export({ type: 'spki', format: 'der' });
  const nonce1 = randomBytes(32);
  const variants = [
    ['attestation-defaults', api, undefined, { nonce_hex: null, user_data_hex: hex(ethAddrJson).slice(2), public_key_hex: hex(enclaveSpki).slice(2) }],
    ['attestation-empty-strings', api, { nonce: '', public_key: '', user_data: '' },
     { nonce_hex: null, user_data_hex: hex(ethAddrJson).slice(2), public_key_hex: hex(enclaveSpki).slice(2) }],
    ['attestation-nonce', api, { nonce: nonce1.toString('base64') },
     { nonce_hex: nonce1.toString('hex'), user_data_hex: hex(ethAddrJson).slice(2), public_key_hex: hex(enclaveSpki).slice(2) }],
    ['attestation-pem-object', api, { nonce: nonce1.toString('base64'), public_key: callerPem, user_data: { app: 'oracle', eth_addr: '0xforged' } },
     { nonce_hex: nonce1.toString('hex'), user_data_hex: null, user_data_json: { app: 'oracle', eth_addr: address }, public_key_hex: callerDer.toString('hex') }],
    ['attestation-user-data-bytes', api, { user_data: Buffer.from('raw user data').toString('base64') },
     { nonce_hex: null, user_data_hex: Buffer.from('raw user data').toString('hex'), public_key_hex: hex(enclaveSpki).slice(2) }],
    ['aux-attestation', aux, { nonce: nonce1.toString('base64'), public_key: callerPem, user_data: { role: 'admin' } },
     { nonce_hex: nonce1.toString('hex'), user_data_hex: hex(ethAddrJson).slice(2), public_key_hex: hex(enclaveSpki).slice(2) }],
  ];
  for (const [name, base, body, expected] of variants) {
    const document = await call(base, 'POST', '/v1/attestation', body);
    check(`${name}: 200 application/cbor`, document.status === 200 && document.type === 'application/cbor', `${document.status} ${document.type}`);
    if (document.status === 200) keep(name, document.bytes, expected);
  }
}

// ---- the aux API reaches nothing else -------------------------------------
// Raw requests: fetch would resolve dot segments before sending them.
function raw(base, method, target, body = '') {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let answer = '';
    socket.on('data', (chunk) => { answer += chunk; });
    socket.on('end', () => resolve(answer));
    socket.on('error', (e) => resolve(`error ${e.message}`));
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
                 `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}
for (const [method, target] of [['POST', '/v1/eth/sign'], ['POST', '/v1/eth/sign-tx'], ['GET', '/v1/random'],
                                ['POST', '/v1/encryption/decrypt'], ['POST', '/v1/encryption/encrypt'], ['POST', '/v1/eth/../eth/sign'],
                                ['POST', '/v1/%2e%2e/v1/eth/sign'], ['POST', '//v1//eth/sign'], ['POST', 'http://127.0.0.1:9000/v1/eth/sign'],
                                ['POST', '/v1/eth/address/../sign'], ['POST', '/V1/ETH/SIGN'], ['POST', '/v1/eth/sign/']]) {
  const reply = await raw(aux, method, target, JSON.stringify({ message: 'x' }));
  check(`aux ${method} ${target}: 404`, reply.startsWith('HTTP/1.1 404') && reply.includes('{"error":'), reply.slice(0, 200));
  if (target === '/v1/eth/../eth/sign') {
    const internalReply = await raw(api, method, target, JSON.stringify({ message: 'x' }));
    check(`internal ${method} ${target}: the same trick reaches sign there`, internalReply.startsWith('HTTP/1.1 200'), internalReply.slice(0, 200));
  }
}

writeFileSync(join(out, 'documents.json'), JSON.stringify(documents, null, 1));
const ok = checks.every((c) => c.ok);
console.log(JSON.stringify({ ok, address, checks }, null, 1));
process.exit(ok ? 0 : 1);
