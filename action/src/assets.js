// assets/ sub-action: sync the manifest's assets into a cached assets directory.
import { assets } from './action.js';

assets();
