import { rangeAssignor } from './range.js';
import type { Assignor, AssignorName } from './types.js';
import { uniformAssignor } from './uniform.js';

export * from './types.js';
export { rangeAssignor } from './range.js';
export { uniformAssignor } from './uniform.js';

export function assignorByName(name: AssignorName): Assignor {
  return name === 'range' ? rangeAssignor : uniformAssignor;
}
