/**
 * Counters of the hot paths (a bearer() verdict, an agent's token lookup: one per request or call),
 * counted in plain numbers and reported when the SDK collects, by an observable counter. A call then
 * pays a map lookup and an increment, not the SDK's handling of attributes: 1.4 to 2.2 µs a call
 * with the 2.x SDK (`bench/bearer/micro.ts` with `BENCH_OTEL=sdk`).
 *
 * What is reported is the same sum a counter would give: OpenTelemetry's observable counters report
 * the running total. A new meter provider starts from zero, as its counters would.
 */
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';

interface Tally {
  readonly attributes: Attributes;
  count: number;
}

export class ObservedCounter {
  readonly #name: string;
  readonly #unit: string;
  readonly #description: string;
  /** By a key that stands for the attributes (`accepted Bearer hit`): one series each. */
  readonly #tallies = new Map<string, Tally>();
  /** The meter the counter is registered with: another one (a new provider) starts from zero. */
  #meter: Meter | undefined;

  constructor(name: string, unit: string, description: string) {
    this.#name = name;
    this.#unit = unit;
    this.#description = description;
  }

  /** One more for `key`, whose series has `attributes` (kept from its first call). */
  add(meter: Meter, key: string, attributes: Attributes): void {
    if (meter !== this.#meter) this.#register(meter);
    const tally = this.#tallies.get(key);
    if (tally !== undefined) tally.count++;
    else this.#tallies.set(key, { attributes, count: 1 });
  }

  #register(meter: Meter): void {
    this.#meter = meter;
    this.#tallies.clear();
    meter
      .createObservableCounter(this.#name, { unit: this.#unit, description: this.#description })
      .addCallback((result: ObservableResult) => {
        if (this.#meter !== meter) return; // a provider replaced since: its successor reports
        for (const { attributes, count } of this.#tallies.values()) result.observe(count, attributes);
      });
  }
}
