import { findCycle, topologicalOrder } from '../../src/queues/plan-cycles';

const n = (key: string, dependsOn: string[] = []) => ({ key, dependsOn });

describe('plan graph checks', () => {
  it('finds no cycle in a diamond and orders it dependencies first', () => {
    const nodes = [n('d', ['b', 'c']), n('b', ['a']), n('c', ['a']), n('a')];
    expect(findCycle(nodes)).toBeNull();
    const order = topologicalOrder(nodes);
    expect(order.indexOf('a')).toBeLessThan(order.indexOf('b'));
    expect(order.indexOf('c')).toBeLessThan(order.indexOf('d'));
  });

  it('finds a self-dependency', () => {
    expect(findCycle([n('a', ['a'])])).toEqual(['a', 'a']);
  });

  it('handles a chain of 100,000 without overflowing the stack', () => {
    const nodes = Array.from({ length: 100_000 }, (_, i) => n(`t${i}`, i ? [`t${i - 1}`] : []));
    expect(findCycle(nodes)).toBeNull();
    expect(topologicalOrder(nodes)).toHaveLength(100_000);
  });
});
