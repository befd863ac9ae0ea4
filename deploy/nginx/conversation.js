// Which conversation a request to /webhooks/ belongs to, for nginx's
// `hash $conversation consistent;` (deploy/nginx/nginx.conf.template).
//
// nginx reads the whole request body before it chooses the upstream
// (proxy_request_buffering on, bodies up to client_body_buffer_size stay in
// memory), so the body is available here as r.requestText. The key is the
// sender id Rasa uses for the conversation:
//   REST      {"sender": "...", "message": "..."}        -> sender
//   Telegram  an update {"message": {"chat": {"id": 1}}}  -> chat id
//   Twilio    a form with From=whatsapp:+44...            -> From
// Anything else (no body, a body in a temporary file, not JSON) gives "",
// which nginx spreads round-robin; the server refuses such requests anyway.
// njs 0.7.9 (Debian 12's libnginx-mod-http-js): ES5 plus a few ES6 features.

function fromJson(body) {
    var data = JSON.parse(body);
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        return '';
    }
    if (typeof data.sender === 'string') {
        return data.sender;
    }
    var message = data.message || data.edited_message
        || (data.callback_query && data.callback_query.message);
    if (message && message.chat && message.chat.id !== undefined && message.chat.id !== null) {
        return String(message.chat.id);
    }
    return '';
}

function fromForm(body) {
    var form = require('querystring').parse(body);
    var from = form.From;
    if (Array.isArray(from)) {
        from = from[0];
    }
    return typeof from === 'string' ? from : '';
}

function sender(r) {
    try {
        var body = r.requestText;
        if (!body) {
            return '';
        }
        var type = (r.headersIn['Content-Type'] || '').split(';')[0].trim().toLowerCase();
        var key = type === 'application/x-www-form-urlencoded' ? fromForm(body) : fromJson(body);
        return key.length <= 256 ? key : key.substring(0, 256);
    } catch (e) {
        return '';
    }
}

// For the access log: the key with email addresses and phone numbers masked,
// as server/guards.py masks them in the Rasa processes' logs (a Twilio
// sender is a phone number).
var EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
var PHONE = /(?<![\w+])\+?\d(?:[\s().-]*\d){8,}(?!\w)/g;

function loggable(r) {
    return sender(r).replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

export default {sender, loggable};
