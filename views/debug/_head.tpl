%# The head of the toolbar's own pages. Expects: title, url, static_url.
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{title}} · Debug</title>
  <link rel="stylesheet" href="{{static_url('css/base.css')}}">
  <link rel="stylesheet" href="{{static_url('css/playground.css')}}">
  <link rel="stylesheet" href="{{static_url('css/debug.css')}}">
</head>
<body class="debug-page">
<main class="container">
