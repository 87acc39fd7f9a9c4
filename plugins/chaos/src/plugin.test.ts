import { chaosPlugin } from './plugin';

describe('chaos', () => {
  it('should export plugin', () => {
    expect(chaosPlugin).toBeDefined();
  });
});
