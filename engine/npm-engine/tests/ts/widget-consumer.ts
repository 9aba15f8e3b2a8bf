// A TypeScript site on @dynchat/widget: type-checked (tsc --noEmit --strict) by `cargo xtask npm`
// against the packed package's index.d.ts, never run.
import dynchat, { init, on, off, identify, consent, open } from '@dynchat/widget';
import type { DynchatDetail, DynchatEvent, InitOptions } from '@dynchat/widget';

const options: InitOptions = { site: 'acme', endpoint: 'https://chat.acme.example', consent: 'required' };
init(options);
identify({ email: 'ann@example.com', FirstName: 'Ann' });

const refused = (d: DynchatDetail): void => {
  // A lead the API refused: its status, key and the API's error (field, message).
  const why = d.error ? `${d.error.field ?? ''} ${d.error.message ?? ''}` : '';
  console.error(`lead ${d.key ?? '?'} refused (${d.status ?? 0}) ${why}`);
};
on('lead-refused', refused);
const events: DynchatEvent[] = ['triggered', 'engaged', 'email', 'meeting-booked', 'goal'];
for (const name of events) on(name, (d) => console.log(name, d.dialogue, d.field, d.value, d.score, d.agent, d.time));
off('lead-refused', refused);
consent(true);
open();
dynchat.close();
