// A webhook receiver for the tests, independent of the code under test: it checks v1
// signatures with the standardwebhooks library and v1a signatures with Node's Ed25519,
// answers with the statuses it is told to, and reports what it received.
import http from "node:http";
import crypto from "node:crypto";
import { Webhook } from "standardwebhooks";

let secrets = [];      // whsec_… secrets; each is tried on its own
let publicKey = null;  // base64 Ed25519 public key (v1a)
let statuses = [204];  // answers in turn; the last repeats
let hang = false;      // never answer
const log = [];

function verifyV1a(id, ts, body, header) {
  if (!publicKey) return false;
  const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(publicKey, "base64")]), format: "der", type: "spki" });
  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`), body]);
  return header.split(" ").some((p) => {
    const [v, sig] = p.split(",");
    return v === "v1a" && crypto.verify(null, signed, key, Buffer.from(sig, "base64"));
  });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    if (req.method === "GET" && req.url === "/log") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify(log));
    }
    if (req.method === "POST" && req.url === "/config") {
      const c = JSON.parse(body.toString());
      if (c.secrets) secrets = c.secrets;
      if (c.public_key) publicKey = c.public_key;
      if (c.statuses) statuses = c.statuses;
      if (c.hang !== undefined) hang = c.hang;
      res.writeHead(204);
      return res.end();
    }
    const h = req.headers;
    const entry = {
      at: Date.now(), path: req.url, id: h["webhook-id"], timestamp: h["webhook-timestamp"],
      signature: h["webhook-signature"] || "", body: body.toString(),
      v1: secrets.map((s) => { try { new Webhook(s).verify(body, h); return true; } catch { return false; } }),
      v1a: verifyV1a(h["webhook-id"], h["webhook-timestamp"], body, h["webhook-signature"] || ""),
    };
    log.push(entry);
    if (hang) return; // the client must give up on its own
    const status = statuses.length > 1 ? statuses.shift() : statuses[0];
    entry.status = status;
    if (status === 302) res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" });
    else if (status === 429 || status === 503) res.writeHead(status, { "retry-after": "1" });
    else res.writeHead(status);
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
