// Combined action, post step: save on a miss or restore-key hit, decided from the main step's state.
import { post } from './action.js';

post();
