// Validates every Kubernetes manifest in deploy/k8s, offline:
//  1. renders each kustomization (base, overlays/example, loadtest) with
//     `kubectl kustomize`, so what is checked is what `kubectl apply -k` sends;
//  2. checks each object against the Kubernetes OpenAPI schema with
//     kubernetes-models (types, enums, required fields);
//  3. writes each object as a typed TypeScript constant and runs
//     `tsc --noEmit --strict`: excess-property checks on object literals catch
//     misspelled fields, which the schema (open to unknown fields) lets pass;
//  4. checks the rules the deployment promises: the "restricted" Pod Security
//     Standard plus a read-only root filesystem, native gRPC probes, and a
//     termination grace period longer than preStop plus the server's drain.
// Prints what it checked; exits 1 with every problem found.
//   cd deploy/validate && npm ci && node validate.mjs
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
// VOCR_K8S_DIR: another copy of deploy/k8s (the tests check a broken copy fails).
const k8s = process.env.VOCR_K8S_DIR ?? join(here, "..", "k8s");
const KUSTOMIZATIONS = ["base", "overlays/example", "loadtest"];

// apiVersion/kind -> [module, class]; anything else is refused.
const MODELS = {
  "v1/ConfigMap": ["kubernetes-models/v1/ConfigMap", "ConfigMap"],
  "v1/Namespace": ["kubernetes-models/v1/Namespace", "Namespace"],
  "v1/Service": ["kubernetes-models/v1/Service", "Service"],
  "apps/v1/Deployment": ["kubernetes-models/apps/v1/Deployment", "Deployment"],
  "autoscaling/v2/HorizontalPodAutoscaler": ["kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler", "HorizontalPodAutoscaler"],
  "policy/v1/PodDisruptionBudget": ["kubernetes-models/policy/v1/PodDisruptionBudget", "PodDisruptionBudget"],
  "batch/v1/Job": ["kubernetes-models/batch/v1/Job", "Job"],
  "monitoring.coreos.com/v1/ServiceMonitor": [
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
    "ServiceMonitor",
  ],
};

const problems = [];
const problem = (where, text) => problems.push(`${where}: ${text}`);

function render(dir) {
  try {
    return execFileSync("kubectl", ["kustomize", join(k8s, dir)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (e.code === "ENOENT") throw new Error("kubectl is not installed (tools/install-deps.sh installs it)");
    throw new Error(`kubectl kustomize ${dir} failed:\n${e.stderr}`);
  }
}

// The server's drain grace comes from the rendered ConfigMap, not a copy of it.
function drainGrace(objects) {
  const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === "vocr-server-config");
  return Number(config?.data?.VOCR_DRAIN_GRACE_S ?? 20);
}

function checkPod(where, spec, drainS) {
  const pod = spec.securityContext ?? {};
  if (pod.runAsNonRoot !== true) problem(where, "pod securityContext.runAsNonRoot must be true");
  if (pod.seccompProfile?.type !== "RuntimeDefault") problem(where, "pod seccompProfile must be RuntimeDefault");
  for (const c of spec.containers ?? []) {
    const at = `${where} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) problem(at, "allowPrivilegeEscalation must be false");
    if (sc.readOnlyRootFilesystem !== true) problem(at, "readOnlyRootFilesystem must be true");
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) problem(at, "capabilities must drop ALL");
    if (sc.privileged) problem(at, "must not be privileged");
    if (!c.resources?.requests?.cpu || !c.resources?.limits?.memory) problem(at, "needs cpu requests and memory limits");
    if (c.ports?.some((p) => p.name === "grpc")) {
      for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
        if (!c[probe]?.grpc) problem(at, `${probe} must be a native gRPC probe`);
      }
      const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
      const pause = preStop[0] === "sleep" ? Number(preStop[1]) : 0;
      if (!pause) problem(at, "needs a preStop pause (sleep N)");
      const grace = spec.terminationGracePeriodSeconds ?? 30;
      if (grace <= pause + drainS) {
        problem(at, `terminationGracePeriodSeconds ${grace} must exceed preStop ${pause} s + drain ${drainS} s`);
      }
    }
  }
}

function podSpec(obj) {
  return obj.kind === "Deployment" || obj.kind === "Job" ? obj.spec?.template?.spec : undefined;
}

const generated = join(here, "generated");
rmSync(generated, { recursive: true, force: true });
mkdirSync(generated);
let count = 0;
for (const dir of KUSTOMIZATIONS) {
  const docs = parseAllDocuments(render(dir));
  const objects = [];
  for (const doc of docs) {
    if (doc.errors.length) problem(dir, `YAML: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj) objects.push(obj);
  }
  const drainS = drainGrace(objects);
  for (const [i, obj] of objects.entries()) {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const where = `${dir}: ${obj.kind} ${obj.metadata?.name}`;
    const model = MODELS[key];
    if (!model) {
      problem(where, `no schema for ${key}`);
      continue;
    }
    const [module, cls] = model;
    const Model = (await import(module))[cls];
    try {
      new Model(obj).validate();
    } catch (e) {
      problem(where, `schema: ${e.message}`);
    }
    const spec = podSpec(obj);
    if (spec) checkPod(where, spec, drainS);
    const name = `${dir.replace(/\W/g, "_")}_${i}_${obj.kind}`;
    writeFileSync(
      join(generated, `${name}.ts`),
      `// ${where}, as rendered by kubectl kustomize.\n` +
        `import type { I${cls} } from "${module}";\n\n` +
        `export const manifest: I${cls} = ${JSON.stringify(obj, null, 2)};\n`,
    );
    count += 1;
  }
}

try {
  execFileSync(join(here, "node_modules", ".bin", "tsc"), ["--noEmit", "--strict", "-p", join(here, "tsconfig.json")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
} catch (e) {
  problem("tsc --strict", e.stdout || e.stderr || e.message);
}

if (problems.length) {
  console.error(`${problems.length} problem(s) in ${count} manifests:\n` + problems.map((p) => `- ${p}`).join("\n"));
  process.exit(1);
}
console.log(`validate: ${count} manifests from ${KUSTOMIZATIONS.join(", ")}: schema, tsc --strict and pod rules pass`);
