/**
 * zod schemas → typed input or an `InputError` naming the first bad field: the operations' own
 * parser, so routes and operations validate the same way and answer 400 with `field`.
 */
export { parseInput } from '../../interface/operations/parse-input';
