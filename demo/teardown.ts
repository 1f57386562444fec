// The end of each part of the demo: undo what it made (or, with --keep, say
// what stays), then check that nothing is left. Never throws: a teardown
// failure is printed as a FAILED step and counted in ctx.problems, so it
// cannot hide the error that started the teardown.
import type { DemoContext } from "./context.js";
import { firstLine } from "./step-log.js";
import type { Undo } from "./undo.js";

export async function finishPart(ctx: DemoContext, undo: Undo, check: { name: string; run: () => Promise<string> }): Promise<void> {
  const { log } = ctx;
  if (ctx.flags.keep) {
    log.say(`  --keep: left in place (newest first): ${undo.pending().join("; ")}`);
    return;
  }
  log.say("  teardown:");
  for (const err of await undo.runAll(log)) ctx.problems.push(`teardown: ${firstLine(err)}`);
  try {
    await log.step(check.name, check.run, (d) => d);
  } catch (err) {
    ctx.problems.push(`${check.name}: ${firstLine(err)}`);
  }
}
