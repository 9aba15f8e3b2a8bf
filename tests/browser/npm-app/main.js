// Minimal app: imports the packed @dynchat/widget and records its callbacks for the test.
import { init, on } from '@dynchat/widget';

const params = new URLSearchParams(location.search);
window.__events = [];
on('triggered', (d) => window.__events.push(['triggered', d.dialogue]));
on('engaged', (d) => window.__events.push(['engaged', d.dialogue]));
init({ site: params.get('site') || 'acme', endpoint: params.get('endpoint') });
