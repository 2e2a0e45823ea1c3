/**
 * The explorer's sign-in panel, as the browser runs it: email and password become an access token in
 * the Headers tab's `Authorization`, refreshed before it expires, removed at sign-out. Tokens live in
 * this page's memory and the Headers editor only, never in the browser's storage.
 */
export const SIGN_IN_SCRIPT = `'use strict';
(() => {
  const endpoint = new URL('graphql', document.baseURI).href;
  const form = document.getElementById('sign-in');
  const status = document.getElementById('sign-in-status');
  const signOut = document.getElementById('sign-out');
  const TOKENS = 'accessToken refreshToken expiresAt';
  let session = null;

  async function call(query, variables, token) {
    const headers = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      // The client name and version GraphiQL sends with every operation (the page's additionalHeaders).
      ...JSON.parse(document.getElementById('explorer-options').textContent).additionalHeaders,
    };
    if (token) headers.authorization = 'Bearer ' + token;
    const response = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const body = await response.json().catch(() => ({ errors: [{ message: 'HTTP ' + response.status }] }));
    const error = body.errors && body.errors[0];
    if (error) {
      const code = error.extensions && error.extensions.code;
      throw new Error(code ? error.message + ' (' + code + ')' : error.message);
    }
    return body.data;
  }

  // GraphiQL's editors are Monaco models; the Headers tab is the one named request-headers.json.
  function headersModel() {
    const models = globalThis.monaco ? globalThis.monaco.editor.getModels() : [];
    return models.find((model) => model.uri.toString().endsWith('request-headers.json'));
  }

  /** Sets (or with null removes) Authorization in the Headers tab, keeping every other header there. */
  function setAuthorization(value) {
    const model = headersModel();
    if (!model) throw new Error('the Headers editor is not ready yet');
    // The tab is JSON with comments; whole-line comments are the only kind the explorer writes.
    const text = model.getValue().split('\\n').filter((line) => !line.trim().startsWith('//')).join('\\n');
    let headers;
    try {
      headers = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      headers = null;
    }
    if (!headers || typeof headers !== 'object' || Array.isArray(headers))
      throw new Error('the Headers tab is not a JSON object: fix or clear it, then sign in again');
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
    const next = value ? { Authorization: value, ...headers } : headers;
    model.pushEditOperations([], [{ range: model.getFullModelRange(), text: JSON.stringify(next, null, 2) }], () => null);
  }

  function show(text, state) {
    status.textContent = text;
    form.dataset.state = state;
  }

  async function begin(tokens) {
    clearTimeout(session && session.timer);
    setAuthorization('Bearer ' + tokens.accessToken);
    const { me } = await call('query ExplorerWhoAmI { me { email role } }', {}, tokens.accessToken);
    // Refreshed a minute before it expires, so a query never goes out with a dead token.
    const refreshIn = Math.max(5000, new Date(tokens.expiresAt).getTime() - Date.now() - 60000);
    session = { ...tokens, timer: setTimeout(refresh, refreshIn) };
    show('Signed in as ' + me.email + ' (' + me.role + ')', 'signed-in');
  }

  async function refresh() {
    try {
      const data = await call(
        'mutation ExplorerRefresh($refreshToken: String!) { refreshSession(refreshToken: $refreshToken) { ' + TOKENS + ' } }',
        { refreshToken: session.refreshToken },
      );
      await begin(data.refreshSession);
    } catch (error) {
      session = null;
      show('Session ended: ' + error.message + '. Sign in again.', 'error');
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    show('Signing in…', 'busy');
    try {
      const data = await call(
        'mutation ExplorerSignIn($email: String!, $password: String!) { login(email: $email, password: $password) { ' + TOKENS + ' } }',
        { email: fields.get('email'), password: fields.get('password') },
      );
      form.elements.password.value = '';
      await begin(data.login);
    } catch (error) {
      show('Sign-in failed: ' + error.message, 'error');
    }
  });

  signOut.addEventListener('click', async () => {
    const ended = session;
    session = null;
    clearTimeout(ended && ended.timer);
    try {
      setAuthorization(null);
      if (ended) await call('mutation ExplorerSignOut($refreshToken: String!) { logout(refreshToken: $refreshToken) }', { refreshToken: ended.refreshToken }, ended.accessToken);
      show('Signed out', 'signed-out');
    } catch (error) {
      show('Sign-out failed: ' + error.message, 'error');
    }
  });
})();
`;

export const PANEL_CSS = `html, body { height: 100%; margin: 0; overflow: hidden; }
body { display: flex; flex-direction: column; }
#root { flex: 1; min-height: 0; }
/* Yoga's stylesheet gives GraphiQL the whole viewport; here it shares it with the panel. */
#root .graphiql-container { height: 100%; width: 100%; }
#sign-in { display: flex; gap: 8px; align-items: center; padding: 6px 12px; font: 14px system-ui, sans-serif;
  border-bottom: 1px solid hsla(219, 28%, 32%, 0.1); background: hsl(219, 28%, 98%); color: hsl(219, 28%, 20%); }
#sign-in input { font: inherit; padding: 3px 6px; border: 1px solid hsla(219, 28%, 32%, 0.3); border-radius: 4px; }
#sign-in button { font: inherit; padding: 3px 10px; border-radius: 4px; border: 1px solid hsla(219, 28%, 32%, 0.3);
  background: white; cursor: pointer; }
#sign-in-status { margin-left: 4px; }
#sign-in[data-state='error'] #sign-in-status { color: hsl(355, 70%, 40%); }
#sign-in[data-state='signed-in'] #sign-in-status { color: hsl(145, 60%, 28%); font-weight: 600; }
`;
