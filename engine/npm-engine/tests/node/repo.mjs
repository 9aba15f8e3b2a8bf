// Files of the dynchat repository the suite reads (examples, bad dialogues, golden transcripts).
// `cargo xtask npm` copies this suite next to the packed package and sets DYNCHAT_ROOT.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const root = process.env.DYNCHAT_ROOT;
if (!root) throw new Error('DYNCHAT_ROOT is not set: run the suite with `cargo xtask npm`');

export const read = (rel) => readFileSync(join(root, rel), 'utf8');
export const list = (rel, ext) => readdirSync(join(root, rel)).filter((f) => f.endsWith(ext)).sort();

/** `examples/*.json`: [file name, text]. */
export const examples = () => list('examples', '.json').map((f) => [f, read(`examples/${f}`)]);

/** `tests/bad-dialogues/expected.txt`: [{ file, code, path }]. */
export const badDialogues = () =>
  read('tests/bad-dialogues/expected.txt')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [file, code, path] = l.trim().split(/\s+/);
      return { file, code, path };
    });

/** Golden cases: [{ name, answers (file text), transcript, dialogue (file text) }]. */
export const goldens = () =>
  list('engine/core/tests/golden', '.answers').map((f) => {
    const name = f.replace(/\.answers$/, '');
    const answers = read(`engine/core/tests/golden/${f}`);
    const id = /^# dialogue: (.+)$/m.exec(answers)?.[1]?.trim();
    return { name, answers, transcript: read(`engine/core/tests/golden/${name}.transcript`), dialogue: read(`examples/${id}.json`) };
  });
