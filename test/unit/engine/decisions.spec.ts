/**
 * The end-of-request decisions as pure functions of state: no HTTP, no store. Each rule is
 * express-session 1.19's (index.js shouldSave/shouldTouch/shouldSetCookie/shouldDestroy), plus
 * ours (savedId, touchAfter, the orphan rule, saveOnServerError).
 */
import {
  type DecisionOptions,
  type DecisionState,
  isFailedResponse,
  isModified,
  isOrphan,
  isSaved,
  shouldDestroy,
  shouldSave,
  shouldSendId,
  shouldTouch,
  touchMargin,
} from '../../../lib/engine/lifecycle/decisions';
import type { RequestSession } from '../../../lib/engine/session';

const OPTIONS: DecisionOptions = {
  saveUninitialized: false,
  rolling: false,
  unset: 'keep',
  touchAfter: 0,
  saveOnServerError: true,
};

/** A session as the rules see it: an id, a cookie, and a fingerprint given by the state. */
function session(id: string, cookie: Partial<RequestSession['cookie']> = {}): RequestSession {
  return { id, cookie: { expires: undefined, originalMaxAge: null, ...cookie } } as RequestSession;
}

/** A state whose session fingerprint is `hash`. */
function state(overrides: Partial<DecisionState> & { hash?: string } = {}): DecisionState {
  const { hash = 'h0', ...rest } = overrides;
  return {
    cookieId: undefined,
    originalId: undefined,
    originalHash: undefined,
    savedId: undefined,
    savedHash: undefined,
    resign: false,
    loadFailed: false,
    loadedExpires: NaN,
    refreshedAtLoad: false,
    idDecided: false,
    idSent: false,
    fingerprintOf: () => hash,
    canSend: () => true,
    ...rest,
  };
}

const NONE = { get: (): number | undefined => undefined };

describe('decisions', () => {
  describe('isModified / isSaved', () => {
    it('compares the id and the fingerprint with the original and the saved ones', () => {
      const s = session('a');
      expect(isModified(state({ originalId: 'a', originalHash: 'h0' }), s)).toBe(false);
      expect(isModified(state({ originalId: 'a', originalHash: 'h1' }), s)).toBe(true);
      expect(isModified(state({ originalId: 'b', originalHash: 'h0' }), s)).toBe(true);
      expect(isSaved(state({ savedId: 'a', savedHash: 'h0' }), s)).toBe(true);
      expect(isSaved(state({ savedId: 'a', savedHash: 'h1' }), s)).toBe(false);
    });
  });

  describe('shouldSave', () => {
    it('never without a session id', () => {
      expect(shouldSave(state(), session('a'), undefined, OPTIONS)).toBe(false);
    });

    it('a new session only once modified (saveUninitialized: false)', () => {
      const fresh = state({ originalId: 'a', originalHash: 'h0' });
      expect(shouldSave(fresh, session('a'), 'a', OPTIONS)).toBe(false);
      const modified = state({ originalId: 'a', originalHash: '{}', hash: 'h1' });
      expect(shouldSave(modified, session('a'), 'a', OPTIONS)).toBe(true);
    });

    it('a new session always with saveUninitialized, unless already saved as it is', () => {
      const options = { ...OPTIONS, saveUninitialized: true };
      expect(shouldSave(state({ originalId: 'a' }), session('a'), 'a', options)).toBe(true);
      const saved = state({ originalId: 'a', savedId: 'a', savedHash: 'h0' });
      expect(shouldSave(saved, session('a'), 'a', options)).toBe(false);
    });

    it('a loaded session when it differs from what the store holds', () => {
      const loaded = { cookieId: 'a', originalId: 'a', originalHash: 'h0', savedId: 'a' };
      expect(shouldSave(state({ ...loaded, savedHash: 'h0' }), session('a'), 'a', OPTIONS)).toBe(
        false,
      );
      expect(
        shouldSave(state({ ...loaded, savedHash: 'h0', hash: 'h1' }), session('a'), 'a', OPTIONS),
      ).toBe(true);
      // resave: nothing recorded as saved at load, so it is written again
      expect(shouldSave(state(loaded), session('a'), 'a', OPTIONS)).toBe(true);
    });

    it('a regenerated session saved explicitly is not written twice (savedId)', () => {
      const regenerated = state({
        cookieId: 'a',
        originalId: 'b',
        originalHash: '{}',
        savedId: 'b',
        savedHash: 'h1',
        hash: 'h1',
      });
      expect(shouldSave(regenerated, session('b'), 'b', OPTIONS)).toBe(false);
    });
  });

  describe('shouldTouch', () => {
    const loaded = { cookieId: 'a', originalId: 'a', originalHash: 'h0' };

    it('only the session the client sent, and only when the store has touch', () => {
      expect(shouldTouch(state(loaded), session('a'), 'a', OPTIONS, true, NONE)).toBe(true);
      expect(shouldTouch(state(loaded), session('a'), 'a', OPTIONS, false, NONE)).toBe(false);
      expect(shouldTouch(state(loaded), session('b'), 'b', OPTIONS, true, NONE)).toBe(false);
      expect(shouldTouch(state(loaded), session('a'), undefined, OPTIONS, true, NONE)).toBe(false);
    });

    it('with touchAfter: not while the new expiry is within the margin of the stored one', () => {
      const options = { ...OPTIONS, touchAfter: 60_000 };
      const stored = 1_000_000;
      const at = (ms: number) => session('a', { expires: new Date(ms), originalMaxAge: 3_600_000 });
      const s = state({ ...loaded, loadedExpires: stored });
      expect(shouldTouch(s, at(stored + 59_999), 'a', options, true, NONE)).toBe(false);
      expect(shouldTouch(s, at(stored + 60_000), 'a', options, true, NONE)).toBe(true);
    });

    it('with touchAfter: the margin is at most a tenth of maxAge', () => {
      const options = { ...OPTIONS, touchAfter: 60_000 };
      const stored = 1_000_000;
      const s = state({ ...loaded, loadedExpires: stored });
      const soon = session('a', { expires: new Date(stored + 10_000), originalMaxAge: 100_000 });
      expect(shouldTouch(s, soon, 'a', options, true, NONE)).toBe(true);
    });

    it('refreshed in the read (getAndTouch): no second touch within a second, even with touchAfter 0', () => {
      const stored = 1_000_000;
      const s = state({ ...loaded, loadedExpires: stored, refreshedAtLoad: true });
      const at = (ms: number) => session('a', { expires: new Date(ms), originalMaxAge: 3_600_000 });
      expect(shouldTouch(s, at(stored + 999), 'a', OPTIONS, true, NONE)).toBe(false);
      expect(shouldTouch(s, at(stored + 1_000), 'a', OPTIONS, true, NONE)).toBe(true);
      const options = { ...OPTIONS, touchAfter: 60_000 };
      expect(shouldTouch(s, at(stored + 59_999), 'a', options, true, NONE)).toBe(false);
      // A browser-session cookie refreshed in the read has nothing left to touch.
      expect(shouldTouch(s, session('a'), 'a', OPTIONS, true, NONE)).toBe(false);
      // Not refreshed (another lifetime, another format): touched as before.
      const plain = state({ ...loaded, loadedExpires: stored });
      expect(shouldTouch(plain, at(stored + 999), 'a', OPTIONS, true, NONE)).toBe(true);
    });

    it('touchMargin: touchAfter, at most a tenth of maxAge, at least 1 s after a read refresh', () => {
      expect(touchMargin(60_000, 3_600_000, false)).toBe(60_000);
      expect(touchMargin(60_000, 100_000, false)).toBe(10_000);
      expect(touchMargin(0, 3_600_000, false)).toBe(0);
      expect(touchMargin(0, 3_600_000, true)).toBe(1_000);
      expect(touchMargin(60_000, null, true)).toBe(60_000);
    });

    it('with touchAfter: not when another request of this process touched it recently', () => {
      const options = { ...OPTIONS, touchAfter: 60_000 };
      const stored = 1_000_000;
      const s = state({ ...loaded, loadedExpires: stored });
      const later = session('a', {
        expires: new Date(stored + 120_000),
        originalMaxAge: 3_600_000,
      });
      const recent = { get: (id: string) => (id === 'a' ? stored + 100_000 : undefined) };
      expect(shouldTouch(s, later, 'a', options, true, recent)).toBe(false);
      expect(shouldTouch(s, later, 'a', options, true, NONE)).toBe(true);
    });

    it('with touchAfter but no known stored expiry (or a browser-session cookie): touch', () => {
      const options = { ...OPTIONS, touchAfter: 60_000 };
      expect(shouldTouch(state(loaded), session('a'), 'a', options, true, NONE)).toBe(true);
      const s = state({ ...loaded, loadedExpires: 1 });
      expect(shouldTouch(s, session('a'), 'a', options, true, NONE)).toBe(true);
    });
  });

  describe('shouldDestroy', () => {
    const destroy = { ...OPTIONS, unset: 'destroy' as const };

    it("only with unset: 'destroy', an id, and the session removed", () => {
      expect(shouldDestroy(state(), 'a', undefined, destroy)).toBe(true);
      expect(shouldDestroy(state(), 'a', null, destroy)).toBe(true);
      expect(shouldDestroy(state(), 'a', session('a'), destroy)).toBe(false);
      expect(shouldDestroy(state(), undefined, undefined, destroy)).toBe(false);
      expect(shouldDestroy(state(), 'a', undefined, OPTIONS)).toBe(false);
    });

    it('never after a failed load (the session was never there)', () => {
      expect(shouldDestroy(state({ loadFailed: true }), 'a', undefined, destroy)).toBe(false);
    });
  });

  describe('shouldSendId', () => {
    it('a new session: with saveUninitialized, or once modified', () => {
      const created = { originalId: 'a', originalHash: 'h0' };
      const fresh = state(created);
      expect(shouldSendId(fresh, session('a'), 'a', OPTIONS)).toBe(false);
      expect(shouldSendId(fresh, session('a'), 'a', { ...OPTIONS, saveUninitialized: true })).toBe(
        true,
      );
      expect(shouldSendId(state({ ...created, hash: 'h1' }), session('a'), 'a', OPTIONS)).toBe(
        true,
      );
    });

    it("the client's session: with rolling, to re-sign, or a persistent cookie modified", () => {
      const loadedState = { cookieId: 'a', originalId: 'a', originalHash: 'h0' };
      const loaded = state(loadedState);
      const persistent = session('a', { expires: new Date(2_000_000) });
      expect(shouldSendId(loaded, session('a'), 'a', OPTIONS)).toBe(false);
      expect(shouldSendId(loaded, session('a'), 'a', { ...OPTIONS, rolling: true })).toBe(true);
      expect(
        shouldSendId(state({ ...loadedState, resign: true }), session('a'), 'a', OPTIONS),
      ).toBe(true);
      expect(shouldSendId(loaded, persistent, 'a', OPTIONS)).toBe(false);
      const modified = state({ cookieId: 'a', originalId: 'a', originalHash: 'h0', hash: 'h1' });
      expect(shouldSendId(modified, persistent, 'a', OPTIONS)).toBe(true);
      // a browser-session cookie is not sent again just because the data changed
      expect(shouldSendId(modified, session('a'), 'a', OPTIONS)).toBe(false);
    });

    it('never without a session id', () => {
      expect(shouldSendId(state(), session('a'), undefined, OPTIONS)).toBe(false);
    });
  });

  describe('isFailedResponse', () => {
    it('a 5xx answer with saveOnServerError: false', () => {
      expect(isFailedResponse(500, { ...OPTIONS, saveOnServerError: false })).toBe(true);
      expect(isFailedResponse(499, { ...OPTIONS, saveOnServerError: false })).toBe(false);
      expect(isFailedResponse(503, OPTIONS)).toBe(false);
    });
  });

  describe('isOrphan', () => {
    const modified = { originalId: 'a', originalHash: '{}', hash: 'h1' };

    it("the client's own session is never an orphan", () => {
      expect(isOrphan(state({ cookieId: 'a' }), session('a'), 'a', OPTIONS, true)).toBe(false);
    });

    it('once the id was decided or the response started: an orphan unless the id went out', () => {
      const s = session('a');
      expect(isOrphan(state({ ...modified, idDecided: true }), s, 'a', OPTIONS, false)).toBe(true);
      expect(
        isOrphan(state({ ...modified, idDecided: true, idSent: true }), s, 'a', OPTIONS, false),
      ).toBe(false);
      expect(isOrphan(state(modified), s, 'a', OPTIONS, true)).toBe(true);
    });

    it('before that: an orphan when the id would not (or could not) be sent', () => {
      const s = session('a');
      expect(isOrphan(state(modified), s, 'a', OPTIONS, false)).toBe(false);
      expect(isOrphan(state({ ...modified, canSend: () => false }), s, 'a', OPTIONS, false)).toBe(
        true,
      );
      const unchanged = state({ originalId: 'a', originalHash: 'h0' });
      expect(isOrphan(unchanged, s, 'a', OPTIONS, false)).toBe(true);
    });
  });
});
