// Validates Gateway API HTTPRoutes (JSON documents, one per line on stdin) with the
// validators @kubernetes-models/gateway-api generates from Gateway API's CRD schemas:
// required fields, types, patterns (hostnames, names), enums and item limits. Unlike
// `kubernetes-validate --strict` it does not reject unknown fields (the CRD's schema
// does not forbid them); clawctl's own parse-back of each rendered HTTPRoute does.
import { createInterface } from "node:readline";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";

let count = 0;
let failed = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { source, doc } = JSON.parse(line);
  count += 1;
  try {
    new HTTPRoute(doc).validate();
  } catch (e) {
    failed += 1;
    console.error(`${source}: HTTPRoute ${doc.metadata?.namespace}/${doc.metadata?.name}: ${e.message}`);
  }
}
console.log(`${count - failed} of ${count} HTTPRoutes valid against Gateway API's schema`);
process.exit(failed ? 1 : 0);
