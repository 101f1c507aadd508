/**
 * The decisions of the Electron main process (main/shell/electron-policy.cjs), in Node: Electron's
 * binary cannot be downloaded here, so electron-main.cjs only wires these to its checkpoints.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowPermission, appOrigin, externalLink, mayNavigate, signInUrl } from '../../main/shell/electron-policy.cjs';

const ORIGIN = 'http://127.0.0.1:41234';

void describe('the Electron window policy', () => {
  void it('accepts only our loopback server as the app origin', () => {
    assert.equal(appOrigin('http://127.0.0.1:41234'), ORIGIN);
    assert.equal(appOrigin('http://localhost:41234/'), 'http://localhost:41234');
    for (const bad of [undefined, '', 'not a url', 'https://127.0.0.1:41234', 'http://127.0.0.1', 'http://evil.example:41234', 'http://127.0.0.2:41234', 'http://user:pw@127.0.0.1:41234', 'http://127.0.0.1:41234/?token=x', 'file:///etc/passwd']) {
      assert.equal(appOrigin(bad), undefined, String(bad));
    }
  });

  void it('loads the sign-in page only from an absolute path to an .html file', () => {
    assert.equal(signInUrl('/run/user/1000/foresight-app-x/open.html'), 'file:///run/user/1000/foresight-app-x/open.html');
    assert.equal(signInUrl('relative/open.html'), undefined);
    assert.equal(signInUrl('/etc/passwd'), undefined);
    assert.equal(signInUrl(undefined), undefined);
  });

  void it('lets the window navigate and be redirected only within the app origin', () => {
    assert.equal(mayNavigate(`${ORIGIN}/login`, ORIGIN), true);
    assert.equal(mayNavigate(`${ORIGIN}/#/episodes/abc`, ORIGIN), true);
    for (const off of ['http://127.0.0.1:41235/', 'http://localhost:41234/', 'https://127.0.0.1:41234/', 'https://github.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,hi', 'about:blank', 'not a url']) {
      assert.equal(mayNavigate(off, ORIGIN), false, off);
    }
  });

  void it('hands only https links to allowed hosts to the user’s browser', () => {
    assert.equal(externalLink('https://github.com/foresight/foresight'), 'https://github.com/foresight/foresight');
    assert.equal(externalLink('https://arxiv.org/abs/2603.16777'), 'https://arxiv.org/abs/2603.16777');
    assert.equal(externalLink('https://export.arxiv.org/abs/2603.16777'), 'https://export.arxiv.org/abs/2603.16777');
    for (const bad of [
      'http://github.com/',
      'https://evil.example/',
      'https://github.com.evil.example/',
      'https://evilgithub.com/',
      'https://user@github.com/',
      'https://github.com:8443/',
      'file:///etc/passwd',
      'smb://server/share',
      'javascript:alert(1)',
      `${ORIGIN}/`,
      'not a url',
    ]) {
      assert.equal(externalLink(bad), undefined, bad);
    }
  });

  void it('denies every permission, asked or checked', () => {
    for (const p of ['media', 'notifications', 'geolocation', 'clipboard-read', 'clipboard-sanitized-write', 'openExternal', 'fullscreen', 'unknown']) {
      assert.equal(allowPermission(p, ORIGIN), false, p);
    }
  });
});
