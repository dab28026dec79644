import parsePrometheusTextFormat, { type PromFamily, type PromSample } from 'parse-prometheus-text-format';

/**
 * A scrape parsed by a Prometheus text-format parser, with lookups by name and labels.
 *
 * The parser folds a histogram's series into one sample without their labels, so a labelled
 * histogram's `_count` and `_sum` are read from a second parse of the text with the histograms'
 * TYPE lines left out: there each `_bucket`, `_sum` and `_count` series is a family of its own.
 */
export class Scrape {
  readonly families: Map<string, PromFamily>;
  private readonly histogramSeries: Map<string, PromFamily>;

  constructor(readonly text: string) {
    this.families = byName(parsePrometheusTextFormat(text));
    const untyped = text
      .split('\n')
      .filter((line) => !/^# TYPE \S+ histogram$/.test(line))
      .join('\n');
    this.histogramSeries = byName(parsePrometheusTextFormat(untyped));
  }

  family(name: string): PromFamily {
    const family = this.families.get(name);
    if (!family) throw new Error(`no metric ${name} in the scrape:\n${this.text}`);
    return family;
  }

  /** The sample of `name` whose labels include `labels`; undefined when there is none. */
  sample(name: string, labels: Record<string, string> = {}): PromSample | undefined {
    return this.family(name).metrics.find((m) =>
      Object.entries(labels).every(([key, value]) => m.labels?.[key] === value),
    );
  }

  /** A counter's or gauge's value (0 when no sample has these labels: nothing counted yet). */
  value(name: string, labels: Record<string, string> = {}): number {
    const sample = this.sample(name, labels);
    return sample?.value === undefined ? 0 : Number(sample.value);
  }

  /** A histogram's observation count (0 when no series has these labels). */
  count(name: string, labels: Record<string, string> = {}): number {
    if (this.family(name).type !== 'HISTOGRAM') throw new Error(`${name} is not a histogram`);
    const series = this.histogramSeries.get(`${name}_count`);
    const sample = series?.metrics.find((m) =>
      Object.entries(labels).every(([key, value]) => m.labels?.[key] === value),
    );
    return sample?.value === undefined ? 0 : Number(sample.value);
  }
}

/** Families by name; series of one name split into several runs (interleaved label sets) are joined. */
function byName(families: PromFamily[]): Map<string, PromFamily> {
  const map = new Map<string, PromFamily>();
  for (const family of families) {
    const seen = map.get(family.name);
    if (seen) seen.metrics.push(...family.metrics);
    else map.set(family.name, { ...family, metrics: [...family.metrics] });
  }
  return map;
}
