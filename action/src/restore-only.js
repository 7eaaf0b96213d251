// restore/ sub-action: restore only; no state, no post step.
import { restoreOnly } from './action.js';

restoreOnly();
