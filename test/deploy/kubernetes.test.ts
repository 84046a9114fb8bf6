// Every manifest in deploy/kubernetes validates against the Kubernetes API schemas shipped by
// kubernetes-models (JSON Schemas from the Kubernetes OpenAPI spec, compiled to ajv validators) and
// the ServiceMonitor against the prometheus-operator CRD schema (@kubernetes-models/prometheus-operator).
// The ConfigMap's daemon.yaml and workflows validate against aicfg's own schemas, and the pieces
// reference each other consistently (ports, names, keys, drain deadline vs grace period).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, test } from "vitest";
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { DaemonConfigSpec } from "../../src/daemon/config.ts";
import { compileWorkflowText } from "../../src/workflows/schema.ts";
import { parseDuration } from "../../src/workflows/duration.ts";
import { hostAllowed } from "../../src/daemon/api/app.ts";
import { parseApiConfig } from "../../src/daemon/api/config.ts";

const dir = new URL("../../deploy/kubernetes/", import.meta.url).pathname;

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
type Validatable = { validate: () => void };

const MODELS: Record<string, new (data: never) => Validatable> = {
  "v1/Namespace": Namespace as never,
  "v1/ConfigMap": ConfigMap as never,
  "v1/Secret": Secret as never,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim as never,
  "v1/Service": Service as never,
  "apps/v1/Deployment": Deployment as never,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor as never,
};

function loadYaml(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(join(dir, file), "utf8"));
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list)
    expect(
      d.errors.map((e) => e.message),
      file,
    ).toEqual([]);
  return list.map((d) => d.toJS());
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const manifestFiles = files.filter((f) => f !== "kustomization.yaml");
const manifests: Array<{ file: string; doc: Manifest }> = manifestFiles.flatMap((file) => loadYaml(file).map((doc) => ({ file, doc: doc as Manifest })));
const find = <T = Manifest>(kind: string, name: string) => manifests.find((m) => m.doc.kind === kind && m.doc.metadata.name === name)!.doc as T;

/** Validates one manifest with its schema; returns the validator's message, or "" when valid. */
function schemaErrors(doc: Manifest): string {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) return `no schema for ${doc.apiVersion}/${doc.kind}`;
  try {
    new Model(doc as never).validate();
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}

describe("schemas", () => {
  test("the folder holds exactly the expected manifests", () => {
    expect(manifests.map((m) => `${m.file}: ${m.doc.apiVersion}/${m.doc.kind} ${m.doc.metadata.name}`)).toEqual([
      "configmap.yaml: v1/ConfigMap aicfg-config",
      "deployment.yaml: apps/v1/Deployment aicfg",
      "namespace.yaml: v1/Namespace aicfg",
      "pvc.yaml: v1/PersistentVolumeClaim aicfg-state",
      "secret.yaml: v1/Secret aicfg-secrets",
      "service.yaml: v1/Service aicfg",
      "servicemonitor.yaml: monitoring.coreos.com/v1/ServiceMonitor aicfg",
    ]);
  });

  test.each(manifests.map((m) => [`${m.file} (${m.doc.kind})`, m.doc] as const))("%s is valid against its schema", (_name, doc) => {
    expect(schemaErrors(doc)).toBe("");
  });

  test("the validators are live: a broken Deployment and ServiceMonitor are rejected precisely", () => {
    const dep = structuredClone(find("Deployment", "aicfg")) as Manifest & { spec: Record<string, unknown> };
    dep.spec.replicas = "one";
    delete dep.spec.selector;
    expect(schemaErrors(dep)).toBe("data/spec must have required property selector, data/spec/replicas must be integer");
    const sm = structuredClone(find("ServiceMonitor", "aicfg")) as Manifest & { spec: { endpoints: Array<Record<string, unknown>> } };
    sm.spec.endpoints[0]!.interval = "half a minute";
    expect(schemaErrors(sm)).toBe(
      'data/spec/endpoints/0/interval must match pattern "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"',
    );
  });

  test("kustomization.yaml lists every manifest and names the image the pods use", () => {
    const [k] = loadYaml("kustomization.yaml") as Array<{ apiVersion: string; kind: string; resources: string[]; images: Array<{ name: string }> }>;
    expect(k!.apiVersion).toBe("kustomize.config.k8s.io/v1beta1");
    expect(k!.kind).toBe("Kustomization");
    expect([...k!.resources].sort()).toEqual(manifestFiles);
    const pod = find<{ spec: { template: { spec: { containers: Array<{ image: string }>; initContainers: Array<{ image: string }> } } } }>(
      "Deployment",
      "aicfg",
    ).spec.template.spec;
    expect(k!.images.map((i) => i.name)).toEqual(["aicfg"]);
    expect([...pod.containers, ...pod.initContainers].map((c) => c.image)).toEqual(["aicfg", "aicfg"]);
  });
});

type Container = {
  name: string;
  ports?: Array<{ name: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }>;
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  livenessProbe?: { httpGet: { path: string; port: string; httpHeaders: Array<{ name: string; value: string }> } };
  startupProbe?: { httpGet: { path: string; port: string; httpHeaders: Array<{ name: string; value: string }> } };
  readinessProbe?: { exec: { command: string[] } };
};
type PodSpec = {
  terminationGracePeriodSeconds: number;
  automountServiceAccountToken: boolean;
  securityContext: { runAsNonRoot: boolean; runAsUser: number; seccompProfile: { type: string } };
  containers: Container[];
  initContainers: Container[];
  volumes: Array<{
    name: string;
    configMap?: { name: string; items: Array<{ key: string; path: string }> };
    secret?: { secretName: string };
    persistentVolumeClaim?: { claimName: string };
  }>;
};

describe("the deployment fits together", () => {
  const pod = find<{ spec: { template: { spec: PodSpec } } }>("Deployment", "aicfg").spec.template.spec;
  const main = pod.containers.find((c) => c.name === "aicfg")!;
  const config = find<{ data: Record<string, string> }>("ConfigMap", "aicfg-config").data;
  const secret = find<{ stringData: Record<string, string> }>("Secret", "aicfg-secrets").stringData;

  test("every container runs non-root, read-only, without privileges", () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBe(10001);
    expect(pod.securityContext.seccompProfile.type).toBe("RuntimeDefault");
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const c of [...pod.containers, ...pod.initContainers]) {
      expect(c.securityContext, c.name).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
      expect(
        c.volumeMounts.map((m) => m.mountPath),
        c.name,
      ).toContain("/tmp");
    }
  });

  test("liveness on /livez and readiness on /readyz, with a Host header the API serves", () => {
    for (const probe of [main.livenessProbe!, main.startupProbe!]) {
      expect(probe.httpGet.path).toBe("/livez");
      expect(probe.httpGet.port).toBe("http");
      const host = probe.httpGet.httpHeaders.find((h) => h.name === "Host")!.value;
      expect(hostAllowed(host, { localPort: 7411, transport: "tcp" }, parseApiConfig({}))).toBe(true);
    }
    expect(main.readinessProbe!.exec.command).toEqual([
      "node",
      "-e",
      "fetch('http://127.0.0.1:7411/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
    ]);
  });

  test("ports line up: container, Service, ServiceMonitor, daemon.yaml listen", () => {
    expect(main.ports).toEqual([{ name: "http", containerPort: 7411, protocol: "TCP" }]);
    const svc = find<{ spec: { ports: Array<{ name: string; port: number; targetPort: string }>; selector: Record<string, string> } }>("Service", "aicfg");
    expect(svc.spec.ports).toEqual([{ name: "http", port: 7411, targetPort: "http", protocol: "TCP" }]);
    const sm = find<{ spec: { endpoints: Array<{ port: string; path: string }>; selector: { matchLabels: Record<string, string> } } }>(
      "ServiceMonitor",
      "aicfg",
    );
    expect(sm.spec.endpoints.map((e) => [e.port, e.path])).toEqual([["http", "/metrics"]]);
    expect(sm.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "aicfg" });
    expect(svc.spec.selector).toEqual({ "app.kubernetes.io/name": "aicfg" });
  });

  test("daemon.yaml is a valid aicfg daemon config, and the grace period outlasts its drain deadline", () => {
    const [daemon] = parseAllDocuments(config["daemon.yaml"]!) as unknown as Array<{ toJS: () => unknown }>;
    const parsed = DaemonConfigSpec.safeParse(daemon!.toJS());
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    const spec = parsed.data!;
    expect(spec.listen).toBe("0.0.0.0:7411");
    expect(spec.libraries).toEqual(["/var/lib/aicfg/library"]);
    expect(parseDuration(spec.drain_timeout!)).toBe(30_000);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(parseDuration(spec.drain_timeout!));
  });

  test("the ConfigMap's workflows are valid aicfg workflows and are all mounted into the library", () => {
    const mounted = pod.volumes.find((v) => v.name === "workflows")!.configMap!;
    expect(mounted.name).toBe("aicfg-config");
    expect(main.volumeMounts.find((m) => m.name === "workflows")).toEqual({ name: "workflows", mountPath: "/var/lib/aicfg/library/workflows", readOnly: true });
    const workflowKeys = Object.keys(config)
      .filter((k) => k.endsWith(".yaml") && k !== "daemon.yaml")
      .sort();
    expect(mounted.items.map((i) => i.key).sort()).toEqual(workflowKeys);
    for (const key of workflowKeys) {
      const { workflow, diagnostics } = compileWorkflowText(config[key]!, `/var/lib/aicfg/library/workflows/${key}`, "/var/lib/aicfg/library");
      expect(
        diagnostics.filter((d) => d.severity === "error"),
        key,
      ).toEqual([]);
      expect(workflow!.name).toBe(key.replace(/\.yaml$/, ""));
    }
  });

  test("every referenced ConfigMap and Secret key exists", () => {
    for (const c of [...pod.containers, ...pod.initContainers]) {
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef;
        if (cm) expect(Object.keys(find<{ data: Record<string, string> }>("ConfigMap", cm.name).data), e.name).toContain(cm.key);
        const sk = e.valueFrom?.secretKeyRef;
        if (sk) expect(Object.keys(find<{ stringData: Record<string, string> }>("Secret", sk.name).stringData), e.name).toContain(sk.key);
      }
      for (const m of c.volumeMounts)
        expect(
          pod.volumes.map((v) => v.name),
          `${c.name} mounts ${m.name}`,
        ).toContain(m.name);
    }
    expect(pod.volumes.find((v) => v.name === "secrets")!.secret!.secretName).toBe("aicfg-secrets");
    expect(pod.volumes.find((v) => v.name === "state")!.persistentVolumeClaim!.claimName).toBe("aicfg-state");
    expect(Object.keys(secret).sort()).toEqual(["admin-token", "github-token", "github-webhook-secret"]);
    // No real secret is committed.
    expect(Object.values(secret)).toEqual(["", "", ""]);
    expect(main.env!.find((e) => e.name === "CREDENTIALS_DIRECTORY")!.value).toBe("/run/secrets/aicfg");
    expect(main.volumeMounts.find((m) => m.name === "secrets")).toEqual({ name: "secrets", mountPath: "/run/secrets/aicfg", readOnly: true });
  });
});
