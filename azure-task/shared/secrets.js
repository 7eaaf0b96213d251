'use strict';
// task-lib's getInput() writes "name=value" to the debug log, and getEndpointAuthorizationParameter()
// writes "<id> auth param password = <value>": the agent masks only values it knows are secret, and
// an access key id is not one of them. So the entry points read the credentials from the
// environment before task-lib loads (it moves ENDPOINT_AUTH_* into its vault and deletes them from
// the environment), register them with ##vso[task.setsecret] first, and never ask task-lib for them.

/** The task.json input of type connectedService:s3pod on all three tasks. */
const CONNECTION_INPUT = 's3Connection';
const NAMES = ['INPUT_SECRETACCESSKEY', 'INPUT_ACCESSKEYID'];

/** The connection's id (the input's value), as the agent passes it in INPUT_S3CONNECTION. */
function connectionId(env) {
  return (env[`INPUT_${CONNECTION_INPUT.toUpperCase()}`] || '').trim();
}

/**
 * The credentials of the connection the task input names: { accessKeyId, secretAccessKey }
 * (the UsernamePassword scheme's username and password), '' where absent.
 */
function captureConnection(env) {
  const id = connectionId(env);
  if (!id) return { id, accessKeyId: '', secretAccessKey: '' };
  const param = (key) => (env[`ENDPOINT_AUTH_PARAMETER_${id}_${key}`] || '').trim();
  const parsed = fromAuthorization(env[`ENDPOINT_AUTH_${id}`]);
  return { id, accessKeyId: param('USERNAME') || parsed.accessKeyId, secretAccessKey: param('PASSWORD') || parsed.secretAccessKey };
}

/** The agent's ENDPOINT_AUTH_<id> JSON ({"scheme": "UsernamePassword", "parameters": {...}}), or task-lib's parse of it. */
function fromAuthorization(auth) {
  let value = auth;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      value = null;
    }
  }
  const p = (value && value.parameters) || {};
  return { accessKeyId: String(p.username || '').trim(), secretAccessKey: String(p.password || '').trim() };
}

/** Every secret value the task may read: the two inputs and the connection's credentials. */
function capture(env) {
  const connection = captureConnection(env);
  return [...NAMES.map((n) => (env[n] || '').trim()), connection.secretAccessKey, connection.accessKeyId].filter(Boolean);
}

module.exports = { capture, captureConnection, fromAuthorization, CONNECTION_INPUT };
