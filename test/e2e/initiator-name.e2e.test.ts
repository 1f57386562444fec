// The initiator-name rule (src/identity/initiator-name.ts) against the real
// LIO (issue 21.9): the engine records an ACL's name in the journal before
// the LIO writer makes its configfs directory, so a name the rule accepts
// that the kernel refused would break every later apply of that block.
//
// On n1, each candidate is made as an ACL directory of a scratch target in
// configfs (mkdir, read back the name the kernel stored from the ACL's info
// file, rmdir). Asserted: every name the rule accepts, the kernel takes and
// stores whole. Longer names the kernel (6.1) either refuses (256 and more:
// configfs's NAME_MAX) or, worse, takes and stores cut to 223 characters
// (TRANSPORT_IQN_LEN): an ACL that would admit another initiator and not this
// one. The rule's 223 is exactly what LIO can hold. The rule is narrower than
// the kernel on purpose elsewhere (RFC 3720's three forms, as open-iscsi
// writes them): such names are listed, not failed.
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
  "iqn.2020-01.a",
  // the rule refuses these for their form; the kernel may take them
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

test("every initiator name the rule accepts, LIO stores whole; a longer one LIO refuses or cuts to 223 characters", { timeout: 600_000 }, async () => {
  const n1 = lab.node(1);
  // one line per candidate in; out per candidate: "0" (refused) or "1 <the name the kernel stored>"
  const r = await n1.must(
    `set -e; mkdir -p ${TPG}
    while IFS= read -r name; do
      if mkdir "${TPG}/acls/$name" 2>/dev/null; then
        echo "1 $(sed -n 's/^No active iSCSI Session for Initiator Endpoint: //p' "${TPG}/acls/$name/info")"
        rmdir "${TPG}/acls/$name"
      else echo 0; fi
    done`,
    { input: `${CANDIDATES.join("\n")}\n` },
  );
  const kernel = r.stdout.replace(/\n$/, "").split("\n");
  assert.equal(kernel.length, CANDIDATES.length, r.stdout);
  const narrower: string[] = [];
  const cut: number[] = [];
  CANDIDATES.forEach((name, i) => {
    const line = kernel[i] ?? "";
    const lio = line.startsWith("1 ");
    const stored = lio ? line.slice(2) : undefined;
    const ours = isInitiatorName(name);
    if (ours) assert.equal(stored, name, `the rule accepts ${name} (${name.length} chars); LIO ${lio ? `stored ${stored}` : "refused it"}`);
    if (name.length > MAX_INITIATOR_NAME_LENGTH) {
      assert.ok(!lio || stored !== name, `LIO holds a ${name.length}-character name whole: the rule's limit is not the kernel's`);
      if (lio) {
        assert.equal(stored, name.slice(0, MAX_INITIATOR_NAME_LENGTH), `what LIO keeps of a ${name.length}-character name`);
        cut.push(name.length);
      }
    }
    if (!ours && lio && stored === name) narrower.push(name);
  });
  console.log(`names LIO took but cut to ${MAX_INITIATOR_NAME_LENGTH} characters: lengths ${cut.join(", ") || "none"}`);
  assert.equal(isInitiatorName(iqnOfLength(MAX_INITIATOR_NAME_LENGTH)), true, "the longest name LIO holds whole is ours too");
  console.log(`names LIO holds whole that the rule refuses for their form (by design): ${narrower.join(", ")}`);

  for (const name of SLASHED) {
    assert.equal(isInitiatorName(name), false, name);
    // mkdir takes it as a path: no ACL of that name, nor of its first part, can exist
    const made = await n1.run(`mkdir "${TPG}/acls/${name}" 2>/dev/null; ls -A ${TPG}/acls`);
    assert.equal(made.stdout.trim(), "", `LIO made an ACL for ${name}: ${made.stdout}`);
  }
});
