// The initiator-name rule (src/identity/initiator-name.ts) against the real
// LIO (issue 21.9): the engine records an ACL's name in the journal before
// the LIO writer makes its configfs directory, so a name the rule accepts
// that the kernel refused would break every later apply of that block.
//
// On n1, each candidate is made as an ACL directory of a scratch target in
// configfs (mkdir, then rmdir). Asserted: every name the rule accepts, the
// kernel accepts; at the two limits the kernel enforces (a '/' in the name,
// 224 characters and more) the rule refuses exactly what the kernel refuses.
// The rule is narrower than the kernel on purpose elsewhere (RFC 3720's
// three forms, as open-iscsi writes them): such names are listed, not failed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ensureLab, type Lab } from "../../lab/harness/lab.js";
import { isInitiatorName, MAX_INITIATOR_NAME_LENGTH } from "../../src/identity/initiator-name.js";

const TARGET = "iqn.2003-01.org.example:gbcsi-namecheck";
const TPG = `/sys/kernel/config/target/iscsi/${TARGET}/tpgt_1`;
let lab: Lab;

const iqnOfLength = (n: number): string => {
  const head = "iqn.2020-01.com.example:";
  return head + "x".repeat(n - head.length);
};

/** printable ASCII but '/': what the rule allows after an IQN's ':' */
const SUFFIX_CHARS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, k) => String.fromCharCode(0x21 + k))
  .filter((c) => c !== "/")
  .join("");

const CANDIDATES = [
  "iqn.2016-04.com.open-iscsi:0123abcd",
  "iqn.1994-05.com.redhat:ABCdef",
  "IQN.2020-01.COM.EXAMPLE:UPPER",
  "iqn.2020-01.com.example",
  `iqn.2020-01.com.example:${SUFFIX_CHARS.slice(0, 60)}`,
  `iqn.2020-01.com.example:${SUFFIX_CHARS.slice(60)}`,
  "eui.0123456789ABCDEF",
  "naa.0123456789abcdef",
  "naa.0123456789abcdef0123456789abcdef",
  iqnOfLength(MAX_INITIATOR_NAME_LENGTH - 1),
  iqnOfLength(MAX_INITIATOR_NAME_LENGTH),
  iqnOfLength(MAX_INITIATOR_NAME_LENGTH + 1),
  iqnOfLength(MAX_INITIATOR_NAME_LENGTH + 40),
  // the rule refuses these for their form; the kernel may take them
  "iqn.2020-01.a",
  "hello",
  "iqn.20-01.com.example:short-date",
  "eui.0123",
];
// names with a '/' cannot even be asked of configfs by mkdir: it would make
// a path; the rule must refuse them (a unit test checks; here, the kernel's
// side: mkdir of such a path never makes an ACL named so)
const SLASHED = ["iqn.2020-01.a/b", "iqn.2020-01.com.example:a/b"];

before(async () => {
  lab = await ensureLab({ nodes: 3 });
  await lab.resetState();
});

after(async () => {
  if (lab) await lab.node(1).run(`rmdir ${TPG}/acls/* ${TPG} /sys/kernel/config/target/iscsi/${TARGET} 2>/dev/null; true`);
});

test("every initiator name the rule accepts, LIO accepts; at 224 characters LIO refuses as the rule does", { timeout: 600_000 }, async () => {
  const n1 = lab.node(1);
  // one line per candidate in, "<0|1>" per candidate out (1: the kernel made the ACL)
  const r = await n1.must(
    `set -e; mkdir -p ${TPG}
    while IFS= read -r name; do
      if mkdir "${TPG}/acls/$name" 2>/dev/null; then echo 1; rmdir "${TPG}/acls/$name"; else echo 0; fi
    done`,
    { input: `${CANDIDATES.join("\n")}\n` },
  );
  const kernel = r.stdout.trim().split("\n");
  assert.equal(kernel.length, CANDIDATES.length, r.stdout);
  const narrower: string[] = [];
  CANDIDATES.forEach((name, i) => {
    const lio = kernel[i] === "1";
    const ours = isInitiatorName(name);
    if (ours) assert.ok(lio, `the rule accepts ${name} (${name.length} chars), LIO refuses it`);
    if (name.length > MAX_INITIATOR_NAME_LENGTH) assert.equal(lio, false, `LIO took a ${name.length}-character name: the length limit is not the kernel's`);
    if (!ours && lio) narrower.push(name);
  });
  assert.equal(isInitiatorName(iqnOfLength(MAX_INITIATOR_NAME_LENGTH)), true, "the longest name LIO takes is ours too");
  console.log(`names LIO takes that the rule refuses for their form (by design): ${narrower.join(", ")}`);

  for (const name of SLASHED) {
    assert.equal(isInitiatorName(name), false, name);
    const made = await n1.run(`mkdir "${TPG}/acls/${name}" 2>&1; ls ${TPG}/acls`);
    assert.doesNotMatch(made.stdout, /\//, `an ACL named ${name}`);
    assert.ok(!made.stdout.split("\n").includes(name), `LIO made an ACL named ${name}`);
  }
});
