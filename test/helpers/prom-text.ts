// A small parser of the Prometheus text exposition format (version 0.0.4), for tests that
// read /metrics: `# HELP`, `# TYPE`, and sample lines `name{label="value",...} value
// [timestamp]`, with the format's escapes in label values (\\, \", \n). It parses line by
// line and label by label, so tests compare numbers, not strings.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Metric family name -> type (counter, gauge, histogram, summary, untyped). */
  types: Map<string, string>;
}

export function parsePrometheusText(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      else if (!/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line) && !line.startsWith('# ')) throw new Error(`line ${index + 1}: bad comment: ${line}`);
      continue;
    }
    samples.push(parseSample(line, index + 1));
  }
  return { samples, types };
}

function parseSample(line: string, lineNumber: number): Sample {
  const fail = (why: string): never => {
    throw new Error(`line ${lineNumber}: ${why}: ${line}`);
  };
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line) ?? fail('no metric name');
  const name = nameMatch[0];
  let position = name.length;
  const labels: Record<string, string> = {};
  if (line[position] === '{') {
    position++;
    while (line[position] !== '}') {
      const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(position)) ?? fail('bad label name');
      position += labelName[0].length;
      if (line.slice(position, position + 2) !== '="') fail('expected ="');
      position += 2;
      let value = '';
      for (;;) {
        const character = line[position] ?? fail('unterminated label value');
        position++;
        if (character === '"') break;
        if (character === '\\') {
          const escaped = line[position] ?? fail('dangling escape');
          position++;
          value += escaped === 'n' ? '\n' : escaped === '\\' || escaped === '"' ? escaped : fail(`bad escape \\${escaped}`);
        } else {
          value += character;
        }
      }
      if (labelName[0] in labels) fail(`label ${labelName[0]} twice`);
      labels[labelName[0]] = value;
      if (line[position] === ',') position++;
      else if (line[position] !== '}') fail('expected , or }');
    }
    position++;
  }
  if (line[position] !== ' ') fail('expected a space before the value');
  const [valueText, timestamp, extra] = line.slice(position + 1).split(' ');
  if (extra !== undefined || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) fail('trailing fields');
  // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
  const special = valueText?.toLowerCase();
  const value = special === '+inf' || special === 'inf' ? Infinity : special === '-inf' ? -Infinity : special === 'nan' ? NaN : Number(valueText);
  if (valueText === undefined || valueText === '' || (Number.isNaN(value) && special !== 'nan')) fail('bad value');
  return { name, labels, value };
}

/** The samples named `name` whose labels include `labels`. */
export function samplesOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exposition.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The one sample's value (0 when there is none: a counter never incremented has no child); throws when several match. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = samplesOf(exposition, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value ?? 0;
}

/** GET http://<address>/metrics, parsed. */
export async function scrape(httpAddress: string): Promise<Exposition> {
  const response = await fetch(`http://${httpAddress}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parsePrometheusText(await response.text());
}
