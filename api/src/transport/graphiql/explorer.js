// A small GraphQL explorer served by the server itself (no CDN, no inline script: it runs
// under the server's Content-Security-Policy). Queries and mutations go over HTTP POST,
// subscriptions over the graphql-transport-ws WebSocket; "Schema" lists the types from
// introspection.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const endpoint = "/graphql";
  let socket = null;

  $("token").value = sessionStorage.getItem("savecorp-token") || "";
  $("token").addEventListener("change", () => sessionStorage.setItem("savecorp-token", $("token").value.trim()));

  function token() {
    return $("token").value.trim().replace(/^Bearer\s+/i, "");
  }

  function show(value) {
    $("result").textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function append(value) {
    $("result").textContent += JSON.stringify(value, null, 2) + "\n";
  }

  async function post(query, variables) {
    const headers = { "content-type": "application/json", accept: "application/json" };
    if (token()) headers.authorization = "Bearer " + token();
    const response = await fetch(endpoint, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    return response.json();
  }

  function stop() {
    if (socket) socket.close(1000, "stopped");
    socket = null;
    $("stop").disabled = true;
  }

  function subscribe(query, variables) {
    stop();
    show("");
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + endpoint;
    socket = new WebSocket(url, "graphql-transport-ws");
    $("stop").disabled = false;
    socket.onopen = () => {
      const payload = token() ? { authorization: "Bearer " + token() } : {};
      socket.send(JSON.stringify({ type: "connection_init", payload }));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (message.type === "next" || message.type === "error") {
        append(message.payload);
      } else if (message.type === "complete") {
        append("complete");
        stop();
      }
    };
    socket.onclose = (event) => {
      if (event.code !== 1000) append({ closed: event.code, reason: event.reason });
      $("stop").disabled = true;
    };
  }

  async function run() {
    const query = $("query").value;
    let variables;
    try {
      variables = JSON.parse($("variables").value || "{}");
    } catch (error) {
      show("Variables are not valid JSON: " + error.message);
      return;
    }
    if (/^\s*subscription\b/.test(query.replace(/#[^\n]*/g, ""))) {
      subscribe(query, variables);
      return;
    }
    show("…");
    try {
      show(await post(query, variables));
    } catch (error) {
      show("Request failed: " + error.message);
    }
  }

  function typeName(type) {
    if (!type) return "";
    if (type.kind === "NON_NULL") return typeName(type.ofType) + "!";
    if (type.kind === "LIST") return "[" + typeName(type.ofType) + "]";
    return type.name;
  }

  const TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
  const SCHEMA_QUERY = "{ __schema { types { kind name description fields { name description args { name type { "
    + TYPE_REF + " } } type { " + TYPE_REF + " } } inputFields { name type { " + TYPE_REF
    + " } } enumValues { name } } } }";
  let types = null;

  function renderDocs() {
    const filter = $("docs-search").value.trim().toLowerCase();
    const list = $("docs-list");
    list.textContent = "";
    for (const type of types) {
      if (type.name.startsWith("__")) continue;
      const members = (type.fields || type.inputFields || []).map((field) => ({
        text: field.name + (field.args && field.args.length
          ? "(" + field.args.map((arg) => arg.name + ": " + typeName(arg.type)).join(", ") + ")" : ""),
        type: typeName(field.type),
        description: field.description,
      })).concat((type.enumValues || []).map((value) => ({ text: value.name, type: "" })));
      const matches = (text) => !filter || text.toLowerCase().includes(filter);
      const shown = matches(type.name) ? members : members.filter((member) => matches(member.text));
      if (!matches(type.name) && shown.length === 0) continue;
      const block = document.createElement("div");
      block.className = "type";
      const title = document.createElement("b");
      title.textContent = type.name + " (" + type.kind.toLowerCase() + ")";
      block.appendChild(title);
      if (type.description) {
        const description = document.createElement("div");
        description.className = "description";
        description.textContent = type.description;
        block.appendChild(description);
      }
      for (const member of shown) {
        const line = document.createElement("div");
        line.className = "field";
        line.textContent = member.text;
        if (member.type) {
          const kind = document.createElement("i");
          kind.textContent = ": " + member.type;
          line.appendChild(kind);
        }
        if (member.description) line.title = member.description;
        block.appendChild(line);
      }
      list.appendChild(block);
    }
  }

  async function toggleDocs() {
    const docs = $("docs");
    docs.hidden = !docs.hidden;
    if (docs.hidden || types) return;
    $("docs-list").textContent = "Loading…";
    try {
      const answer = await post(SCHEMA_QUERY, {});
      if (!answer.data) {
        $("docs-list").textContent = JSON.stringify(answer.errors || answer);
        return;
      }
      types = answer.data.__schema.types;
      renderDocs();
    } catch (error) {
      $("docs-list").textContent = "Introspection failed: " + error.message;
    }
  }

  $("run").addEventListener("click", run);
  $("stop").addEventListener("click", stop);
  $("docs-toggle").addEventListener("click", toggleDocs);
  $("docs-search").addEventListener("input", () => types && renderDocs());
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      run();
    }
  });
})();
