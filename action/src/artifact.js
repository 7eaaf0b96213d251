// artifact/ sub-action: one s3pod artifact command (push, pull, publish, alias, pick).
import { artifact } from './action.js';

artifact();
