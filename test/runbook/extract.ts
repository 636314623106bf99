/** The runbook in docs/deploy.md: its fenced blocks marked ```sh runbook, in document order. */
export function runbookBlocks(markdown: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  const pattern = /^```sh runbook\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(pattern)) {
    blocks.push({ line: markdown.slice(0, match.index).split("\n").length, code: match[1]! });
  }
  return blocks;
}

/** The blocks as one bash script, each announced with its line in the document. */
export function runbookScript(markdown: string): string {
  const blocks = runbookBlocks(markdown);
  if (blocks.length === 0) throw new Error("docs/deploy.md has no ```sh runbook blocks");
  return blocks.map((block) => `echo "runbook: block at docs/deploy.md:${block.line}"\n${block.code}`).join("\n");
}
