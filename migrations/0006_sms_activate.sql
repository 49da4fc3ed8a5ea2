-- The sms-activate handler protocol (/stubs/handler_api.php, issue 13) names countries by
-- number, services by short code, and activations and rents by integer ids.

-- sms-activate's public country number (USA 187, Pakistan 66, India 22) and service code
-- (telegram tg, whatsapp wa, facebook fb). NULL: not offered on that protocol.
ALTER TABLE countries ADD COLUMN sms_activate_id INTEGER CHECK (sms_activate_id IS NULL OR sms_activate_id >= 0);
CREATE UNIQUE INDEX countries_sms_activate_id ON countries(sms_activate_id) WHERE sms_activate_id IS NOT NULL;
ALTER TABLE services ADD COLUMN sms_activate_code TEXT CHECK (sms_activate_code IS NULL OR sms_activate_code = lower(sms_activate_code));
CREATE UNIQUE INDEX services_sms_activate_code ON services(sms_activate_code) WHERE sms_activate_code IS NOT NULL;

-- One integer per activation and per rent, from one sequence (AUTOINCREMENT: never reused,
-- never renumbered), so an integer names exactly one object. It is the same object as its
-- act_…/rent_… id on the other dialects. Filled by the triggers below in the same
-- transaction as the insert, whichever dialect bought it.
CREATE TABLE numeric_ids (
  num INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('activation', 'rent')),
  object_id TEXT NOT NULL UNIQUE
);

-- Objects bought before this migration, oldest first.
INSERT INTO numeric_ids (kind, object_id) SELECT 'activation', id FROM activations ORDER BY created_at, id;
INSERT INTO numeric_ids (kind, object_id) SELECT 'rent', id FROM rents ORDER BY created_at, id;

-- (Each trigger on one line: migration runners split statements at a ';' that ends a line.)
CREATE TRIGGER activations_numeric_id AFTER INSERT ON activations BEGIN INSERT INTO numeric_ids (kind, object_id) VALUES ('activation', NEW.id); END;
CREATE TRIGGER rents_numeric_id AFTER INSERT ON rents BEGIN INSERT INTO numeric_ids (kind, object_id) VALUES ('rent', NEW.id); END;
