/**
 * The `foresight bench run` command that continues a run, rebuilt from its stored configuration
 * (run.sqlite's config). Shared by `foresight bench status` and the app's benchmark view.
 */

/** The command that continues a run, rebuilt from its stored configuration. */
export function resumeCommand(config: Record<string, unknown>, outDir: string): string {
  const q = (v: unknown) => {
    const s = String(v);
    return /^[\w@%+=:,./#-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
  };
  const parts = ['npx foresight bench run', `--suite ${q(config.suite)}`, `--data ${q(config.data)}`, `--planner ${q(config.planner)}`];
  if (config.grounder !== 'none') parts.push(`--grounder ${q(config.grounder)}`);
  if (config.split !== null && config.split !== undefined) parts.push(`--split ${q(config.split)}`);
  if (config.mode !== null && config.mode !== undefined) parts.push(`--mode ${q(config.mode)}`);
  parts.push(`--horizon ${q(config.horizon)}`);
  if (config.limit !== null && config.limit !== undefined) parts.push(`--limit ${q(config.limit)}`);
  parts.push(`--out ${q(outDir)}`);
  return parts.join(' ');
}
