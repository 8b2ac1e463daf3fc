// The egress tests' destinations: real HTTP and HTTPS servers on the host
// (Node's own http/https modules: keep-alive, chunked bodies, large
// transfers), which the enclave reaches only through odyn's proxy and the
// sleeve's host side.
//
//   node upstream.mjs ADDRESS HTTP_PORT HTTPS_PORT CERT KEY
//
// Routes, on both:
//   GET  /hello          "hello from upstream <scheme>\n"
//   GET  /headers        the request headers as JSON (what the proxy forwarded)
//   GET  /bytes/N        N bytes (byte i = i % 251), chunked
//   POST /sha256         the SHA-256 of the body, hex, and its length
// Says "ready" on stderr when both listen.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

const [address, httpPort, httpsPort, cert, key] = process.argv.slice(2);

function handler(scheme) {
  return (req, res) => {
    if (req.method === "GET" && req.url === "/hello") {
      res.end(`hello from upstream ${scheme}\n`);
    } else if (req.method === "GET" && req.url === "/headers") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(req.headers));
    } else if (req.method === "GET" && req.url.startsWith("/bytes/")) {
      let left = Number(req.url.slice(7));
      let offset = 0;
      const chunk = 1 << 16;
      const write = () => {
        while (left > 0) {
          const n = Math.min(chunk, left);
          const buf = Buffer.alloc(n);
          for (let i = 0; i < n; i++) buf[i] = (offset + i) % 251;
          offset += n;
          left -= n;
          if (!res.write(buf)) return res.once("drain", write);
        }
        res.end();
      };
      write();
    } else if (req.method === "POST" && req.url === "/sha256") {
      const hash = createHash("sha256");
      let length = 0;
      req.on("data", (d) => { hash.update(d); length += d.length; });
      req.on("end", () => res.end(`${hash.digest("hex")} ${length}\n`));
    } else {
      res.statusCode = 404;
      res.end("no such thing\n");
    }
  };
}

let listening = 0;
const ready = () => { if (++listening === 2) console.error("ready"); };
http.createServer(handler("http")).listen(Number(httpPort), address, ready);
https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, handler("https")).listen(Number(httpsPort), address, ready);
