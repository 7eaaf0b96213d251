// Combined action, main step: restore (the post step saves).
import { restore } from './action.js';

restore();
