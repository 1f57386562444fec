// Reads the effective multipath configuration (`multipathd show config`, in
// multipath.conf's own block syntax) and checks what LIO/tcmu needs:
// failover-style grouping, never multibus (tcmu's glfs lock fences a gateway
// on writes through another, so round-robin across gateways ping-pongs the
// lock); a real I/O path checker, not tur (tcmu answers TUR GOOD even with
// its backend gone), and detect_checker off: it defaults to yes, and then
// multipathd picks tur for every ALUA device, tcmu's included, whatever
// path_checker says (seen in the lab: "tur" on all paths); a finite no_path_retry (queueing forever hangs pods in D
// state). These are checked, not written: the host's multipath.conf belongs
// to the admin (see docs; the lab image carries a suitable one).

export interface ConfSection {
  name: string;
  values: Map<string, string>;
  children: ConfSection[];
}

/** Tokens of multipath.conf: words, "quoted strings", braces; '#' and '!' start comments. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const rawLine of text.split("\n")) {
    let i = 0;
    const line = rawLine;
    while (i < line.length) {
      const c = line[i] ?? "";
      if (c === "#" || c === "!") break;
      if (/\s/.test(c)) {
        i++;
        continue;
      }
      if (c === "{" || c === "}") {
        out.push(c);
        i++;
        continue;
      }
      if (c === '"') {
        const end = line.indexOf('"', i + 1);
        const stop = end < 0 ? line.length : end;
        out.push(`"${line.slice(i + 1, stop)}`);
        i = stop + 1;
        continue;
      }
      let j = i;
      while (j < line.length && !/[\s{}]/.test(line[j] ?? "")) j++;
      out.push(line.slice(i, j));
      i = j;
    }
    out.push("\n");
  }
  return out;
}

const unquote = (t: string): string => (t.startsWith('"') ? t.slice(1) : t);

export function parseMultipathConfig(text: string): ConfSection {
  const root: ConfSection = { name: "", values: new Map(), children: [] };
  const stack = [root];
  const tokens = tokenize(text);
  let line: string[] = [];
  const flush = (): void => {
    const top = stack[stack.length - 1];
    if (top && line.length >= 1) {
      const [k = "", ...rest] = line;
      top.values.set(k, rest.map(unquote).join(" "));
    }
    line = [];
  };
  for (const t of tokens) {
    if (t === "{") {
      const name = line[0] ?? "";
      line = [];
      const s: ConfSection = { name, values: new Map(), children: [] };
      stack[stack.length - 1]?.children.push(s);
      stack.push(s);
    } else if (t === "}") {
      flush();
      if (stack.length > 1) stack.pop();
    } else if (t === "\n") {
      flush();
    } else {
      line.push(t);
    }
  }
  flush();
  return root;
}

function matches(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined) return false;
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return pattern === value;
  }
}

export interface EffectiveSettings {
  pathGroupingPolicy: string;
  pathChecker: string;
  /** "yes" (multipath-tools' default): ALUA devices get tur, path_checker notwithstanding */
  detectChecker: string;
  noPathRetry: string;
  findMultipaths: string;
}

/** What multipathd applies to a LIO-ORG "TCMU device" path: defaults, then matching device entries in order, then overrides. */
export function effectiveTcmuSettings(conf: ConfSection): EffectiveSettings {
  const keys = {
    pathGroupingPolicy: "path_grouping_policy",
    pathChecker: "path_checker",
    detectChecker: "detect_checker",
    noPathRetry: "no_path_retry",
  } as const;
  const defaults = conf.children.find((c) => c.name === "defaults");
  const eff: EffectiveSettings = {
    pathGroupingPolicy: defaults?.values.get(keys.pathGroupingPolicy) ?? "failover",
    pathChecker: defaults?.values.get(keys.pathChecker) ?? "tur",
    detectChecker: defaults?.values.get(keys.detectChecker) ?? "yes",
    noPathRetry: defaults?.values.get(keys.noPathRetry) ?? "fail",
    findMultipaths: defaults?.values.get("find_multipaths") ?? "strict",
  };
  const apply = (s: ConfSection): void => {
    for (const [field, key] of Object.entries(keys) as [keyof typeof keys, string][]) {
      const v = s.values.get(key);
      if (v !== undefined) eff[field] = v;
    }
  };
  for (const devices of conf.children.filter((c) => c.name === "devices")) {
    for (const d of devices.children.filter((c) => c.name === "device")) {
      if (matches(d.values.get("vendor"), "LIO-ORG") && matches(d.values.get("product"), "TCMU device")) apply(d);
    }
  }
  for (const o of conf.children.filter((c) => c.name === "overrides")) apply(o);
  return eff;
}

/** Problems that make the settings unsafe for tcmu LUNs; empty when fine. */
export function tcmuSettingProblems(eff: EffectiveSettings): string[] {
  const problems: string[] = [];
  if (eff.pathGroupingPolicy === "multibus") {
    problems.push("path_grouping_policy is multibus: writes through several gateways make tcmu's glfs lock ping-pong; use failover or group_by_prio with ALUA");
  }
  if (eff.pathChecker === "tur") {
    problems.push("path_checker is tur: tcmu-runner answers TEST UNIT READY with GOOD even when its backend is gone; use directio");
  }
  if (eff.pathChecker !== "tur" && eff.detectChecker !== "no") {
    problems.push(
      `detect_checker is ${eff.detectChecker}: multipathd then uses tur for ALUA devices such as tcmu's, whatever path_checker says; set detect_checker no beside path_checker directio`,
    );
  }
  if (eff.noPathRetry === "queue") {
    problems.push("no_path_retry is queue: I/O would queue forever with every gateway gone; use a finite number of retries");
  }
  return problems;
}
