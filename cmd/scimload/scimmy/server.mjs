// A SCIM server written the way SCIMMY's documentation shows (SCIMMY 1.3.5,
// scimmy-routers 1.3.2, express 4): users and groups in JavaScript Maps,
// filters answered by SCIMMY's Filter.match over every resource, userName
// uniqueness checked by scanning, PATCH applied by SCIMMY to the whole
// resource (egress, patch, ingress). scimload drives it as an http:// target
// for docs/performance.md:
//
//	cd cmd/scimload/scimmy && npm install --no-save scimmy@1.3.5 scimmy-routers@1.3.2 express@4
//	PORT=8091 TOKEN=t node server.mjs &
//	go run ./cmd/scimload -target http://127.0.0.1:8091/scim/v2 -token t
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import {randomUUID} from "node:crypto";

const token = process.env.TOKEN ?? "t";
const users = new Map();
const groups = new Map();

function store(map, unique) {
    return {
        ingress: (resource, instance) => {
            const name = String(instance[unique] ?? "").toLowerCase();
            for (const [id, other] of map)
                if (id !== resource.id && String(other[unique] ?? "").toLowerCase() === name)
                    throw new SCIMMY.Types.Error(409, "uniqueness", `${unique} already taken`);
            const id = resource.id ?? randomUUID();
            if (resource.id && !map.has(id)) throw new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);
            const now = new Date();
            const prev = map.get(id);
            const doc = {...instance, id, meta: {created: prev?.meta?.created ?? now, lastModified: now}};
            map.set(id, doc);
            return doc;
        },
        egress: (resource) => {
            if (resource.id) {
                const doc = map.get(resource.id);
                if (!doc) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
                return doc;
            }
            const all = [...map.values()];
            return resource.filter ? resource.filter.match(all) : all;
        },
        degress: (resource) => {
            if (!map.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        },
    };
}

SCIMMY.Resources.declare(SCIMMY.Resources.User, store(users, "userName"));
SCIMMY.Resources.declare(SCIMMY.Resources.Group, store(groups, "displayName"));

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    docUri: "https://example.com",
    handler: (req) => {
        if (req.header("Authorization") !== `Bearer ${token}`) throw new Error("bad token");
        return "load";
    },
}));
const port = Number(process.env.PORT ?? 8091);
app.listen(port, "127.0.0.1", () => console.log(`SCIMMY on http://127.0.0.1:${port}/scim/v2`));
