// save/ sub-action: save now (the workflow decides when, e.g. with `if: always()`).
import { saveOnly } from './action.js';

saveOnly();
