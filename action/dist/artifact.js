// src/artifact.js
var import_action = require("./action.js");
(0, import_action.artifact)();
