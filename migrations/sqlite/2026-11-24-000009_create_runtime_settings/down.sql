DROP TABLE runtime_settings;
