-- A local store written by the schema-2 code (offline_cache/store.py before the one-outbox
-- split, commit 1cf273d), dumped with sqlite3's iterdump: packages, a warning list, meta, four
-- cases (acknowledged, retrying, dead-lettered, new), attachments, four jobs (a sent publication,
-- its revocation waiting for it, a pending publication, a dead-lettered certificate upload) and
-- the audit trail.  tests/offline_cache/test_migrations.py opens it with the current code.
PRAGMA user_version = 2;
BEGIN TRANSACTION;
CREATE TABLE active_packages (
            item_id TEXT PRIMARY KEY,
            version TEXT NOT NULL,
            activated_at REAL NOT NULL,
            FOREIGN KEY (item_id, version) REFERENCES packages (item_id, version)
        );
INSERT INTO "active_packages" VALUES('senior-card','3',1700000002.0);
CREATE TABLE attachments (
            attachment_id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (case_id),
            name TEXT NOT NULL,
            media_type TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            body BLOB,
            created_at REAL NOT NULL,
            uploaded_at REAL,
            UNIQUE (case_id, name)
        );
INSERT INTO "attachments" VALUES('att-1','case-sent','material:page:0','image/jpeg','6c1b08d3284519ec891a52ca5feb701feab91d6d8ca0f950ac5ee7cb26ee0fba',6,X'FFD870616765',1700000010.0,1700000011.0);
INSERT INTO "attachments" VALUES('att-cert','case-sent','certificate','application/pdf','c0a9265d69d9f40e6e924d10b6eb68d3db83315e01e19e48625c2a7db140f68b',13,X'255044462D312E372063657274',1700000070.0,NULL);
CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            event TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
INSERT INTO "audit" VALUES(1,1700000010.0,'case.queued','{"case_id":"case-sent","item_id":"senior-card"}','0000000000000000000000000000000000000000000000000000000000000000','15aef88a6c72f297f667767acb8997c6bf47bac551713b4dabb81ae990332625');
INSERT INTO "audit" VALUES(2,1700000011.0,'attachment.uploaded','{"attachment_id":"att-1"}','15aef88a6c72f297f667767acb8997c6bf47bac551713b4dabb81ae990332625','d7b6fee7086cbab3df2d1d3d824028cccb5372b89c79551883cdba640c38dbb5');
INSERT INTO "audit" VALUES(3,1700000012.0,'case.uploaded','{"case_id":"case-sent"}','d7b6fee7086cbab3df2d1d3d824028cccb5372b89c79551883cdba640c38dbb5','906566769ff58f0b74f20980786a10b1bebd91a84c61d9953ea9634cbe4f0f52');
INSERT INTO "audit" VALUES(4,1700000020.0,'case.queued','{"case_id":"case-retry","item_id":"senior-card"}','906566769ff58f0b74f20980786a10b1bebd91a84c61d9953ea9634cbe4f0f52','5bdde6b9d9143c7ff97a429e1906b456eb6658795f6e65870c3608daf7c48063');
INSERT INTO "audit" VALUES(5,1700000030.0,'case.queued','{"case_id":"case-dead","item_id":"senior-card"}','5bdde6b9d9143c7ff97a429e1906b456eb6658795f6e65870c3608daf7c48063','b244172c1b7dea795ec122fa20c9376c73368a77d005be2750c4bb323881f096');
INSERT INTO "audit" VALUES(6,1700000003.0,'case.dead_lettered','{"case_id":"case-dead"}','b244172c1b7dea795ec122fa20c9376c73368a77d005be2750c4bb323881f096','07f02e217a3b997a329099ddcfce6ba25fb916e73ff3f5c2ce4de59313324dea');
INSERT INTO "audit" VALUES(7,1700000040.0,'case.queued','{"case_id":"case-new","item_id":"senior-card"}','07f02e217a3b997a329099ddcfce6ba25fb916e73ff3f5c2ce4de59313324dea','b7ac1d592f3f56f08c82df0dd58bafbc1f1a8c87e1a18603583ad5cca5a155f1');
INSERT INTO "audit" VALUES(8,1700000013.0,'job.queued','{"case_id":"case-sent","job_id":"pub-1","kind":"publicity"}','b7ac1d592f3f56f08c82df0dd58bafbc1f1a8c87e1a18603583ad5cca5a155f1','eaf970bd650bb22ade81d9a8caec82b0c641c700552cdec3e4051b57229dcf52');
INSERT INTO "audit" VALUES(9,1700000014.0,'job.sent','{"job_id":"pub-1"}','eaf970bd650bb22ade81d9a8caec82b0c641c700552cdec3e4051b57229dcf52','9901b251463e9941347c8719f1442ae88c52b3152b9702e369ee91f3c0a1a78a');
INSERT INTO "audit" VALUES(10,1700000050.0,'job.queued','{"case_id":"case-sent","job_id":"rev-1","kind":"publicity_revoke"}','9901b251463e9941347c8719f1442ae88c52b3152b9702e369ee91f3c0a1a78a','dabf90b8ff3f091fc838e0d4f48b3c00baddf401cde31c3d80e8f85c2e800c78');
INSERT INTO "audit" VALUES(11,1700000060.0,'job.queued','{"case_id":"case-new","job_id":"pub-2","kind":"publicity"}','dabf90b8ff3f091fc838e0d4f48b3c00baddf401cde31c3d80e8f85c2e800c78','e8250fc3ef03a3232ccd65d7e6fbcbbbb113010863a608cbdf331fb039f5230c');
INSERT INTO "audit" VALUES(12,1700000070.0,'job.queued','{"case_id":"case-sent","job_id":"cert-1","kind":"attachment"}','e8250fc3ef03a3232ccd65d7e6fbcbbbb113010863a608cbdf331fb039f5230c','0a9d6c6c22960866ed8cb286c18c9cd1ff710f5315bda915a2d92b9738eac7bc');
INSERT INTO "audit" VALUES(13,1700000004.0,'job.dead_lettered','{"job_id":"cert-1"}','0a9d6c6c22960866ed8cb286c18c9cd1ff710f5315bda915a2d92b9738eac7bc','f33889248e01266adb467e26d1265f27c391a6e89e6f6ebac8a77b8e81574026');
INSERT INTO "audit" VALUES(14,1700000090.0,'session_end','{"reason":"done"}','f33889248e01266adb467e26d1265f27c391a6e89e6f6ebac8a77b8e81574026','f08efebde6791d8ae96f020245085866e5fe8fa1289ba2e18fa0bdf50f871a79');
CREATE TABLE cases (
            case_id TEXT PRIMARY KEY,
            item_id TEXT NOT NULL,
            payload BLOB NOT NULL,
            encoding TEXT NOT NULL DEFAULT 'plain',
            created_at REAL NOT NULL
        , wiped_at REAL);
INSERT INTO "cases" VALUES('case-sent','senior-card',X'7B22636173655F6964223A22636173652D73656E74227D','plain',1700000010.0,NULL);
INSERT INTO "cases" VALUES('case-retry','senior-card',X'7B22636173655F6964223A22636173652D7265747279227D','plain',1700000020.0,NULL);
INSERT INTO "cases" VALUES('case-dead','senior-card',X'7B22636173655F6964223A22636173652D64656164227D','plain',1700000030.0,NULL);
INSERT INTO "cases" VALUES('case-new','senior-card',X'7B22636173655F6964223A22636173652D6E6577227D','plain',1700000040.0,NULL);
CREATE TABLE jobs (
            job_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            case_id TEXT,
            after_job TEXT REFERENCES jobs (job_id),
            payload BLOB NOT NULL,
            created_at REAL NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            sent_at REAL,
            ack BLOB
        );
INSERT INTO "jobs" VALUES('pub-1','publicity','case-sent',NULL,X'7B227075626C69636974795F6964223A227075622D31222C227265636F7264223A7B7D7D',1700000013.0,'sent',1,1700000013.0,NULL,1700000014.0,X'7B226F6B223A747275657D');
INSERT INTO "jobs" VALUES('rev-1','publicity_revoke','case-sent','pub-1',X'7B227075626C69636974795F6964223A227075622D31222C22726561736F6E223A2272222C227265766F6B65645F6174223A22323032362D30312D30315430303A30303A30302B30383A3030227D',1700000050.0,'pending',0,1700000050.0,NULL,NULL,NULL);
INSERT INTO "jobs" VALUES('pub-2','publicity','case-new',NULL,X'7B227075626C69636974795F6964223A227075622D32222C227265636F7264223A7B7D7D',1700000060.0,'pending',0,1700000060.0,NULL,NULL,NULL);
INSERT INTO "jobs" VALUES('cert-1','attachment','case-sent',NULL,X'7B226174746163686D656E745F6964223A226174742D63657274227D',1700000070.0,'dead',1,1700000070.0,'conflict: HTTP 409: other key',NULL,NULL);
CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
INSERT INTO "meta" VALUES('terminal.id','T-OLD-1');
INSERT INTO "meta" VALUES('audit.head','14:f08efebde6791d8ae96f020245085866e5fe8fa1289ba2e18fa0bdf50f871a79');
CREATE TABLE outbox (
            case_id TEXT PRIMARY KEY REFERENCES cases (case_id),
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            sent_at REAL,
            ack BLOB
        );
INSERT INTO "outbox" VALUES('case-sent','sent',1,1700000010.0,NULL,1700000012.0,X'7B2272656365697074223A225342582D31227D');
INSERT INTO "outbox" VALUES('case-retry','pending',1,1700000080.0,'unavailable: HTTP 503',NULL,NULL);
INSERT INTO "outbox" VALUES('case-dead','dead',1,1700000030.0,'rejected: HTTP 400: unknown item',NULL,NULL);
INSERT INTO "outbox" VALUES('case-new','pending',0,1700000040.0,NULL,NULL,NULL);
CREATE TABLE packages (
            item_id TEXT NOT NULL,
            version TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            body BLOB NOT NULL,
            encoding TEXT NOT NULL DEFAULT 'plain',
            stored_at REAL NOT NULL,
            PRIMARY KEY (item_id, version)
        );
INSERT INTO "packages" VALUES('senior-card','3','abababababababababababababababababababababababababababababababab',X'7B226964223A2273656E696F722D63617264222C2276657273696F6E223A2233227D','plain',1700000001.0);
CREATE TABLE warning_lists (
            name TEXT PRIMARY KEY,
            version TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            body BLOB NOT NULL,
            encoding TEXT NOT NULL DEFAULT 'plain',
            fetched_at REAL NOT NULL
        );
INSERT INTO "warning_lists" VALUES('dishonest','7','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd',X'5B5D','plain',1700000000.5);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX jobs_due ON jobs (state, next_attempt_at);
COMMIT;
