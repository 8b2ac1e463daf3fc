// Generates tests/fixtures/eth/oracle.json, the third-party oracle values the
// C++ crypto tests (tests/unit/crypto) compare against:
//   - Keccak-256 digests from ethers (@noble/hashes underneath);
//   - addresses, public keys and EIP-191 personal_sign signatures of fixed
//     secp256k1 keys, from ethers' Wallet;
//   - EIP-1559 transactions serialized, hashed and signed by ethers;
//   - the api.md encryption scheme computed by Node's WebCrypto
//     (ECDH P-384 -> HKDF-SHA256 -> AES-256-GCM) between two fixed P-384 keys.
// Deterministic: fixed keys, fixed nonces, and both ECDSA implementations use
// RFC 6979 nonces, so running it again gives the same file byte for byte.
//
//   cd tests/js && npm ci   (once)
//   node tests/js/make_eth_fixtures.mjs > tests/fixtures/eth/oracle.json
import { webcrypto } from "node:crypto";
import {
  Transaction,
  Wallet,
  getAddress,
  getBytes,
  hashMessage,
  hexlify,
  keccak256,
  recoverAddress,
  toUtf8Bytes,
} from "ethers";

const subtle = webcrypto.subtle;

// Bytes 0..n-1 of a fixed pattern (a small LCG): long inputs without RNG.
function pattern(n, seed) {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const hex = (bytes) => hexlify(bytes);
const utf8 = (s) => toUtf8Bytes(s);

// --- Keccak-256 --------------------------------------------------------------
// Lengths around the 136-byte rate (block boundaries) and a multi-block input.
const keccakInputs = [
  new Uint8Array(0),
  utf8("abc"),
  new Uint8Array(200).fill(0xa3),
  utf8("The quick brown fox jumps over the lazy dog"),
];
for (const n of [1, 55, 56, 134, 135, 136, 137, 271, 272, 273, 1000, 4096]) keccakInputs.push(pattern(n, n));
const keccakVectors = keccakInputs.map((input) => ({ input: hex(input), digest: keccak256(input) }));

// --- secp256k1 keys and personal_sign ---------------------------------------
const secrets = [
  "0x0000000000000000000000000000000000000000000000000000000000000001",
  "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  // n - 1, the largest valid scalar
  "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",
];
const keys = secrets.map((secret) => {
  const w = new Wallet(secret);
  return { secret, address: w.address, public_key: w.signingKey.publicKey };
});

const messages = [
  utf8("hello enclave"),
  utf8("h\u00e9llo \u{1f30d}"),
  new Uint8Array(0),
  new Uint8Array([0x00, 0xff, 0x19, 0x0a]),
  pattern(1000, 7),
];
const personalSign = [];
for (const secret of secrets.slice(1, 3)) {
  const w = new Wallet(secret);
  for (const message of messages) {
    const signature = w.signMessageSync(message);
    const digest = hashMessage(message);
    if (recoverAddress(digest, signature) !== w.address) throw new Error("ethers does not recover its own signature");
    personalSign.push({ secret, message: hex(message), digest, signature, address: w.address });
  }
}

// Checksummed addresses of fixed 20-byte patterns, as ethers writes them.
const checksummed = [];
for (let i = 0; i < 16; i++) checksummed.push(getAddress(hex(pattern(20, 1000 + i))));

// --- EIP-1559 transactions -------------------------------------------------
const MAX = (1n << 256n) - 1n;
const txSecret = secrets[1];
const txWallet = new Wallet(txSecret);
const transactions = [
  {
    name: "transfer",
    chainId: 1n, nonce: 0, maxPriorityFeePerGas: 1_000_000_000n, maxFeePerGas: 30_000_000_000n, gasLimit: 21000n,
    to: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", value: 1_000_000_000_000_000_000n, data: "0x", accessList: [],
  },
  {
    name: "contract_creation",
    chainId: 11155111n, nonce: 7, maxPriorityFeePerGas: 2n, maxFeePerGas: 100n, gasLimit: 3_000_000n,
    to: null, value: 0n, data: hex(pattern(300, 3)), accessList: [],
  },
  {
    name: "access_list",
    chainId: 137n, nonce: 42, maxPriorityFeePerGas: 30_000_000_000n, maxFeePerGas: 300_000_000_000n, gasLimit: 120_000n,
    to: "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", value: 5n, data: "0xa9059cbb" + "00".repeat(31) + "01",
    accessList: [
      {
        address: "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        storageKeys: [
          "0x0000000000000000000000000000000000000000000000000000000000000000",
          "0x0000000000000000000000000000000000000000000000000000000000000001",
          hex(pattern(32, 9)),
        ],
      },
      { address: "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", storageKeys: [hex(pattern(32, 10)), hex(pattern(32, 11))] },
    ],
  },
  {
    name: "all_zero",
    chainId: 0n, nonce: 0, maxPriorityFeePerGas: 0n, maxFeePerGas: 0n, gasLimit: 0n,
    to: "0x0000000000000000000000000000000000000000", value: 0n, data: "0x", accessList: [],
  },
  {
    name: "large_values",
    chainId: (1n << 64n) - 1n, nonce: Number.MAX_SAFE_INTEGER, maxPriorityFeePerGas: MAX - 1n, maxFeePerGas: MAX,
    gasLimit: MAX, to: "0x52908400098527886E0F7030069857D2E4169EE7", value: MAX, data: "0x00", accessList: [],
  },
  {
    name: "entry_without_keys",
    chainId: 10n, nonce: 1, maxPriorityFeePerGas: 128n, maxFeePerGas: 256n, gasLimit: 55_000n,
    to: "0x8617E340B3D01FA5F11F306F4090FD50E238070D", value: 127n, data: hex(pattern(56, 12)),
    accessList: [{ address: "0x27b1fdb04752bbc536007a920d24acb045561c26", storageKeys: [] }],
  },
];

// A transaction whose signature has r or s below 2^248, so that the signed
// encoding must strip a leading zero byte: the first such nonce, searched
// deterministically (about one in 64 qualifies).
for (let nonce = 0; ; nonce++) {
  const tx = Transaction.from({
    type: 2, chainId: 1n, nonce, maxPriorityFeePerGas: 1n, maxFeePerGas: 2n, gasLimit: 21000n,
    to: "0xde709f2102306220921060314715629080e2fb77", value: 1n, data: "0x", accessList: [],
  });
  const sig = txWallet.signingKey.sign(tx.unsignedHash);
  if (sig.r.startsWith("0x00") || sig.s.startsWith("0x00")) {
    transactions.push({
      name: "short_signature_integer",
      chainId: 1n, nonce, maxPriorityFeePerGas: 1n, maxFeePerGas: 2n, gasLimit: 21000n,
      to: "0xde709f2102306220921060314715629080e2fb77", value: 1n, data: "0x", accessList: [],
    });
    break;
  }
}

const quantity = (v) => "0x" + BigInt(v).toString(16);
const txVectors = [];
for (const t of transactions) {
  const tx = Transaction.from({
    type: 2,
    chainId: t.chainId,
    nonce: t.nonce,
    maxPriorityFeePerGas: t.maxPriorityFeePerGas,
    maxFeePerGas: t.maxFeePerGas,
    gasLimit: t.gasLimit,
    to: t.to,
    value: t.value,
    data: t.data,
    accessList: t.accessList,
  });
  const signed = await txWallet.signTransaction(tx);
  const parsed = Transaction.from(signed);
  if (parsed.from !== txWallet.address) throw new Error("ethers does not recover the signer of " + t.name);
  txVectors.push({
    name: t.name,
    fields: {
      chain_id: quantity(t.chainId),
      nonce: quantity(t.nonce),
      max_priority_fee_per_gas: quantity(t.maxPriorityFeePerGas),
      max_fee_per_gas: quantity(t.maxFeePerGas),
      gas_limit: quantity(t.gasLimit),
      to: t.to,
      value: quantity(t.value),
      data: t.data,
      access_list: t.accessList.map((e) => ({ address: e.address, storage_keys: e.storageKeys })),
    },
    unsigned_serialized: tx.unsignedSerialized,
    unsigned_hash: tx.unsignedHash,
    signed_serialized: signed,
    signed_hash: parsed.hash,
    y_parity: parsed.signature.yParity,
    r: parsed.signature.r,
    s: parsed.signature.s,
  });
}

// --- P-384 encryption scheme (WebCrypto) ------------------------------------
// Two fixed keys, made once with `openssl genpkey -algorithm EC -pkeyopt
// ec_paramgen_curve:P-384`.
const ENCLAVE_PEM = `-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCgQvx9cfuEOH+uK5R/
NeBuFV7sz1IN68XMVkGzzUg9RZ438p8P0Ohcl4NnD4qUjBmhZANiAATShs1gKHdG
lVLz2dn3jVDsFBWxXuhB7Aa7ZRrEAt4kO2IvUD1htZI0Ou05zQ8Z+EgX6QbMuWgm
183v09mD/dTmJ6KspOoU6WqXn81rvGQQ3avixhydzL7CqBz3Hoy8GPY=
-----END PRIVATE KEY-----
`;
const CLIENT_PEM = `-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBkg80L6qlLqEHqRSae
u80m+DpRhoHIJym2VxN99ATMYy8hLhT/0WsLBkFaxMoCJ9ihZANiAAQwpOOAkBHT
LgJvItyPbyw1CEIuUomtBWKiMsSwxc7dtf5iDSSRaJf3doznBROklvxmcc5+oOaj
JbPPmcYy7pJrMvUokfwiBjpkkGqGT165JzXnhod7ZsTbrbzbj2suhFk=
-----END PRIVATE KEY-----
`;

const pemBody = (pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
const ecdh = { name: "ECDH", namedCurve: "P-384" };

// WebCrypto exports no public key from a private one directly: go through JWK.
async function importPair(pem) {
  const privateKey = await subtle.importKey("pkcs8", pemBody(pem), ecdh, true, ["deriveBits"]);
  const jwk = await subtle.exportKey("jwk", privateKey);
  delete jwk.d;
  jwk.key_ops = [];
  const publicKey = await subtle.importKey("jwk", jwk, ecdh, true, []);
  const spki = new Uint8Array(await subtle.exportKey("spki", publicKey));
  return { privateKey, publicKey, spki };
}

const enclave = await importPair(ENCLAVE_PEM);
const client = await importPair(CLIENT_PEM);

// The client's side of api.md's scheme, exactly as a browser app would do it.
const shared = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: enclave.publicKey }, client.privateKey, 384));
const sharedBack = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: client.publicKey }, enclave.privateKey, 384));
if (hex(shared) !== hex(sharedBack)) throw new Error("ECDH is not symmetric");
const hkdfKey = await subtle.importKey("raw", shared, "HKDF", false, ["deriveBits"]);
const aesKeyBytes = new Uint8Array(
  await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8("encryption data") }, hkdfKey, 256),
);
const aesKey = await subtle.importKey("raw", aesKeyBytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);

const plaintexts = ["hello enclave", "", "h\u00e9llo \u{1f30d} \u65e5\u672c", "x".repeat(1000)];
const ciphertexts = [];
for (let i = 0; i < plaintexts.length; i++) {
  const nonce = pattern(32, 100 + i);
  const ciphertext = new Uint8Array(
    await subtle.encrypt({ name: "AES-GCM", iv: nonce.slice(0, 12), tagLength: 128 }, aesKey, utf8(plaintexts[i])),
  );
  ciphertexts.push({ plaintext: plaintexts[i], nonce: hex(nonce), encrypted_data: hex(ciphertext) });
}
// A ciphertext whose plaintext is not UTF-8 (authentic, so only the UTF-8
// check can refuse it).
const badUtf8Nonce = pattern(32, 200);
const badUtf8 = new Uint8Array(
  await subtle.encrypt({ name: "AES-GCM", iv: badUtf8Nonce.slice(0, 12) }, aesKey, new Uint8Array([0x61, 0xff, 0xfe])),
);

const p384 = {
  enclave_private_pem: ENCLAVE_PEM,
  enclave_public_key_der: hex(enclave.spki),
  client_private_pem: CLIENT_PEM,
  client_public_key_der: hex(client.spki),
  shared_secret: hex(shared),
  derived_key: hex(aesKeyBytes),
  messages: ciphertexts,
  not_utf8: { nonce: hex(badUtf8Nonce), encrypted_data: hex(badUtf8) },
};

const fixture = {
  generator: "tests/js/make_eth_fixtures.mjs (ethers 6.13.4, Node WebCrypto); do not edit by hand",
  keccak256: keccakVectors,
  keys,
  personal_sign: personalSign,
  checksummed_addresses: checksummed,
  eip1559: { secret: txSecret, address: txWallet.address, transactions: txVectors },
  p384,
};
process.stdout.write(JSON.stringify(fixture, null, 2) + "\n");
