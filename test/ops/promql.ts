/** The metric names a PromQL expression selects (not its functions, labels, keywords or Grafana variables). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\$\{?\w+\}?/g, ''); // Grafana variables ($__rate_interval, $__range)
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'Inf', 'NaN']);
  const names = [...bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?/g)]
    .filter((match) => !match[2]) // a function or an aggregation
    .map((match) => match[1]!)
    .filter((name) => !keywords.has(name));
  return [...new Set(names)];
}

interface Panel {
  panels?: Panel[];
  targets?: { expr?: string }[];
}

/** Every query of a Grafana dashboard's panels, rows' panels included. */
export function dashboardQueries(dashboard: { panels: Panel[] }): string[] {
  const panels = (list: Panel[]): Panel[] => list.flatMap((panel) => [panel, ...panels(panel.panels ?? [])]);
  return panels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).flatMap((target) => target.expr ?? []),
  );
}
