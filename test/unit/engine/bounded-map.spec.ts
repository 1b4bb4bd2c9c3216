import { BoundedMap } from '../../../lib/engine/bounded-map';

describe('BoundedMap', () => {
  it('drops the oldest entry past its bound; a key set again counts as new', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3); // refreshed: now b is the oldest
    map.set('c', 4);
    expect([map.get('a'), map.get('b'), map.get('c')]).toEqual([3, undefined, 4]);
    map.delete('a');
    expect(map.get('a')).toBeUndefined();
  });
});
