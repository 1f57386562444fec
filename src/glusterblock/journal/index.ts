// The metadata journal: vocabulary, parser, line builders, derived views.
export * from "./model.js";
export { parseJournal, parseJournalEntries, parseHostStatus, keyValueProblem } from "./parse.js";
export * from "./format.js";
export * from "./state.js";
