// Interop suite against a real frr process (see test/integration/lib/interop.ts).
import { interopSuite } from '../lib/interop.ts';

interopSuite('frr');
