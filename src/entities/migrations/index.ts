/** Every migration, oldest first. Add new ones at the end. */
import { InitialSchema1730000000000 } from './1730000000000-initial-schema';

export const MIGRATIONS = [InitialSchema1730000000000];
