// Interop suite against a real gobgp process (see test/integration/lib/interop.ts).
import { interopSuite } from '../lib/interop.ts';

interopSuite('gobgp');
