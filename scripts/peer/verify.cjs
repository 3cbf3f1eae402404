// The Node side of `make bench-peer`: verifies the tokens `benchpeer gen`
// wrote with aws-jwt-verify's JwtVerifier.verifySync, the JWKS cached in
// memory (cacheJwks), on one thread, and prints one JSON line in the shape
// of `benchpeer run`. The library is installed by scripts/bench-peer into a
// git-ignored folder (PEER_DIR); none of its code is in the repo.
//
// Usage: PEER_DIR=.tools/peer node verify.cjs DIR ALG SECONDS
"use strict";

const fs = require("fs");
const path = require("path");

const [dir, alg, seconds] = process.argv.slice(2);
if (!dir || !alg) {
  console.error("usage: node verify.cjs DIR ALG [SECONDS]");
  process.exit(2);
}
const peerDir = path.resolve(process.env.PEER_DIR || path.join(__dirname, "..", "..", ".tools", "peer"));
const { JwtVerifier } = require(path.join(peerDir, "node_modules", "aws-jwt-verify"));

const cfg = JSON.parse(fs.readFileSync(path.join(dir, "tokens.json"), "utf8"));
const jwks = JSON.parse(fs.readFileSync(path.join(dir, "jwks.json"), "utf8"));
const tokens = cfg.tokens[alg];
if (!tokens || tokens.length === 0) {
  console.error(`no ${alg} tokens in ${dir}`);
  process.exit(1);
}

// The same rules as the Go side: issuer, audience, exp and nbf (the
// library's defaults); the keys come from the cached JWKS, never fetched.
const verifier = JwtVerifier.create({ issuer: cfg.issuer, audience: cfg.audience });
verifier.cacheJwks(jwks);

// Every token must verify, and a tampered one must not.
tokens.forEach((t, i) => {
  try {
    verifier.verifySync(t);
  } catch (err) {
    console.error(`${alg} token ${i} does not verify: ${err.message}`);
    process.exit(1);
  }
});
const dot = tokens[0].indexOf(".") + 5;
const tampered = tokens[0].slice(0, dot) + (tokens[0][dot] === "A" ? "B" : "A") + tokens[0].slice(dot + 1);
let refused = false;
try {
  verifier.verifySync(tampered);
} catch {
  refused = true;
}
if (!refused) {
  console.error(`a tampered ${alg} token verified`);
  process.exit(1);
}

// Batches of 64 for about SECONDS, after a warm-up batch, as on the Go side.
const batch = 64;
const limit = BigInt(Math.round(Number(seconds || 2) * 1e9));
for (let i = 0; i < batch; i++) verifier.verifySync(tokens[i % tokens.length]);
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
let n = 0;
while (process.hrtime.bigint() - t0 < limit) {
  for (let j = 0; j < batch; j++, n++) verifier.verifySync(tokens[n % tokens.length]);
}
const wallNs = Number(process.hrtime.bigint() - t0);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({
    side: "node",
    alg,
    runtime: process.version,
    verify: { ops: n, wallNs, cpuNs: (cpu.user + cpu.system) * 1000 },
  }) + "\n",
);
