// A Node Lambda authorizer doing the token authorizer's job with
// aws-jwt-verify, for `make cold-start`'s comparison (cmd/coldstart). It is
// ours; the libraries come from npm into a git-ignored folder (PEER_DIR).
//
// Init (module scope): load aws-jwt-verify and @aws-sdk/client-secrets-
// manager, build the verifier and the client. First invocation: read the
// signing-key secret's AWSCURRENT and AWSPREVIOUS versions (two
// GetSecretValue calls in parallel), cache their public keys as the
// verifier's JWKS, then verify. Every invocation: verifySync the bearer
// token (issuer, audience, exp, nbf), answer "Unauthorized" or a policy.
//
// It runs as a Lambda custom runtime: a small Runtime API loop over node's
// http module, in place of the managed runtime's client.
"use strict";

const http = require("http");
const path = require("path");

const peerDir = path.resolve(process.env.PEER_DIR || path.join(__dirname, "..", "..", ".tools", "peer"));
const load = (name) => require(path.join(peerDir, "node_modules", name));
const { JwtVerifier } = load("aws-jwt-verify");
const { SecretsManagerClient, GetSecretValueCommand } = load("@aws-sdk/client-secrets-manager");

const secretId = process.env.KEYS_SECRET_ID;
const audiences = (process.env.AUDIENCES || "").split(",").map((s) => s.trim()).filter(Boolean);
const verifier = JwtVerifier.create({ issuer: process.env.KEYS_ISSUER, audience: audiences });
const sm = new SecretsManagerClient({});
let keys = null; // a promise, once the first invocation started loading

// publicJwk drops the private members a signer keeps in the same secret.
function publicJwk({ d, p, q, dp, dq, qi, k, ...pub }) {
  return pub;
}

async function loadKeys() {
  const versions = await Promise.all(
    ["AWSCURRENT", "AWSPREVIOUS"].map((stage) =>
      sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage })).catch((err) => {
        if (stage === "AWSPREVIOUS" && err.name === "ResourceNotFoundException") return null;
        throw err;
      }),
    ),
  );
  const jwks = { keys: [] };
  for (const v of versions) {
    if (!v) continue;
    const doc = JSON.parse(v.SecretString);
    for (const key of doc.keys || [doc]) jwks.keys.push(publicJwk(key));
  }
  verifier.cacheJwks(jwks);
}

class Unauthorized extends Error {
  constructor() {
    super("Unauthorized");
    this.name = "Unauthorized";
  }
}

async function handler(event) {
  if (!keys) keys = loadKeys().catch((err) => ((keys = null), Promise.reject(err)));
  await keys;
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(event.authorizationToken || "");
  if (!m) throw new Unauthorized();
  let claims;
  try {
    claims = verifier.verifySync(m[1]);
  } catch {
    throw new Unauthorized();
  }
  const [arn] = (event.methodArn || "").split("/", 1);
  const stage = (event.methodArn || "").split("/")[1];
  return {
    principalId: claims.sub,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: `${arn}/${stage}/*/*` }],
    },
    context: { sub: claims.sub, iss: claims.iss },
  };
}

// The Runtime API loop.
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, route, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: "/2018-06-01/runtime/" + route, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    if (body !== undefined) req.setHeader("content-type", "application/json");
    req.end(body);
  });
}

async function loop() {
  for (;;) {
    const next = await call("GET", "invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    try {
      const out = await handler(JSON.parse(next.body));
      await call("POST", `invocation/${id}/response`, JSON.stringify(out));
    } catch (err) {
      await call("POST", `invocation/${id}/error`, JSON.stringify({ errorMessage: err.message, errorType: err.name }));
    }
  }
}

loop().catch((err) => {
  console.error(err);
  process.exit(1);
});
