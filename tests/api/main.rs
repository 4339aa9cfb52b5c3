//! End-to-end tests: the real server on a random port, a fresh database per test
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set), real HTTP.

mod support;

mod assistant;
mod audit;
mod auth_api;
mod auth_v1;
mod bad_input;
mod callcenter;
mod callcenter_reports;
mod callcenter_voip;
mod cc_records;
mod cims_workspace;
mod cli;
mod crm_analytics;
mod crm_customers;
mod crm_deals;
mod crm_summaries;
mod deep_pages;
mod health;
mod http;
mod idempotency;
mod integrations;
mod management;
mod metrics;
mod migrations;
mod openapi;
mod outage;
mod permissions;
mod rest_activities;
mod rest_core;
mod rest_crm;
mod rest_deals;
mod rest_exchange;
mod rest_insights;
mod rest_products;
mod rest_settings;
mod rest_territories;
mod sales_managers;
mod scale_out;
mod users_admin;
mod webhooks;
