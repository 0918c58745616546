// Interop suite against a real bird process (see test/integration/lib/interop.ts).
import { interopSuite } from '../lib/interop.ts';

interopSuite('bird');
