// src/assets.js
var import_action = require("./action.js");
(0, import_action.assets)();
