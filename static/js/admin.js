// The admin's small helpers; every page works without them.
// - the changelist's "select all" box, the count of ticked rows, "Select all 351 products"
// - shift-click on a column heading sorts by it too (after the columns sorted already)
// - a slug filled from the title as you type (data-prepopulate-from)
// - a filter box above a list of checkboxes (a many-to-many field)
// - "Add another" inline row, without a round trip to the server
// - the foreign-key picker: type a name, pick a row, its id goes into the field
(function () {
  "use strict";

  // --- Changelist: selection, select across, sorting, filters ---

  var selectAll = document.querySelector(".select-all");
  var rowBoxes = document.querySelectorAll('input[name="_selected"]');
  var across = document.querySelector(".select-across");
  var acrossBox = across && across.querySelector("input");
  var countText = document.querySelector(".selection-count");

  function showSelection() {
    var ticked = 0;
    rowBoxes.forEach(function (box) { if (box.checked) ticked += 1; });
    var all = ticked > 0 && ticked === rowBoxes.length;
    if (selectAll) selectAll.checked = all;
    if (across) {
      across.hidden = !all;
      if (!all) acrossBox.checked = false;
    }
    if (countText) {
      countText.textContent = acrossBox && acrossBox.checked ? "All matching rows selected"
        : ticked + " of " + rowBoxes.length + " selected";
    }
  }

  if (selectAll) {
    selectAll.addEventListener("change", function () {
      rowBoxes.forEach(function (row) { row.checked = selectAll.checked; });
      showSelection();
    });
    rowBoxes.forEach(function (row) { row.addEventListener("change", showSelection); });
    if (acrossBox) acrossBox.addEventListener("change", showSelection);
  }

  document.querySelectorAll(".sort-link[data-add-href]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (event.shiftKey) {
        event.preventDefault();
        window.location.href = link.dataset.addHref;
      }
    });
  });

  // --- Forms ---

  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 255);
  }

  document.querySelectorAll("[data-prepopulate-from]").forEach(function (target) {
    var source = document.getElementById(target.dataset.prepopulateFrom);
    if (!source) return;
    var edited = target.value !== "" && target.value !== slugify(source.value);
    target.addEventListener("input", function () { edited = target.value !== ""; });
    source.addEventListener("input", function () {
      if (!edited) target.value = slugify(source.value);
    });
  });

  document.querySelectorAll(".checkbox-list").forEach(function (box) {
    var items = box.querySelectorAll("li");
    if (items.length < 8) return;
    var filter = document.createElement("input");
    var status = document.createElement("p");
    filter.type = "search";
    filter.className = "checkbox-filter";
    filter.placeholder = box.dataset.filterLabel + "…";
    filter.setAttribute("aria-label", box.dataset.filterLabel);
    filter.setAttribute("aria-controls", box.id);
    status.className = "checkbox-filter-status muted";
    status.setAttribute("role", "status");
    box.parentNode.insertBefore(filter, box);
    box.parentNode.insertBefore(status, box.nextSibling);
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      items.forEach(function (item) {
        var text = item.textContent.toLowerCase();
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        item.hidden = !match;
        if (match) shown += 1;
      });
      status.textContent = !words.length ? "" : shown === 0 ? "No matches." : shown + " shown.";
    });
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();   // never submits the whole form
    });
  });

  // "Add another": copy the group's blank row (its names say __prefix__) with the next
  // number, and count it in <prefix>-TOTAL. The button itself, without this script, asks
  // the server for the form again with one more row.
  document.querySelectorAll(".add-row").forEach(function (button) {
    var group = button.closest(".inline-group");
    var template = group.querySelector("template.inline-template");
    var total = group.querySelector(".inline-total");
    if (!template || !total) return;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var n = parseInt(total.value, 10) || 0;
      var html = template.innerHTML.replace(/__prefix__/g, String(n));
      var body = group.querySelector("tbody");
      var empty = body.querySelector(".inline-empty");
      if (empty) empty.remove();
      body.insertAdjacentHTML("beforeend", html);
      total.value = String(n + 1);
      var row = body.lastElementChild;
      row.querySelectorAll(".picker[data-autocomplete]").forEach(makePicker);
      var first = row.querySelector("input:not([type=hidden]), select");
      if (first) first.focus();
    });
  });

  // --- The foreign-key picker: an ARIA combobox ---
  // The id box stays a plain input (it works without this script). Beside it, a search box
  // (role=combobox) and its list of results (role=listbox). Arrows move through the results,
  // Enter picks the highlighted one (and never submits the form), Escape closes the list and
  // keeps what was typed, leaving the picker closes it. "No matches" is said aloud too.

  var pickers = 0;

  function makePicker(picker) {
    if (picker.dataset.ready) return;
    picker.dataset.ready = "1";
    pickers += 1;
    var idInput = picker.querySelector(".picker-id");
    var label = picker.querySelector(".picker-label");
    var search = document.createElement("input");
    var list = document.createElement("ul");
    var status = document.createElement("span");
    var listId = "picker-results-" + pickers;
    var name = idInput.getAttribute("aria-label") || (idInput.labels && idInput.labels[0] &&
      idInput.labels[0].textContent.trim()) || idInput.name;
    var results = [], active = -1, timer = null, asked = 0;

    search.type = "text";
    search.className = "picker-search";
    search.placeholder = "Search…";
    search.autocomplete = "off";
    search.setAttribute("role", "combobox");
    search.setAttribute("aria-label", "Search for " + name.toLowerCase());
    search.setAttribute("aria-autocomplete", "list");
    search.setAttribute("aria-expanded", "false");
    search.setAttribute("aria-controls", listId);
    list.id = listId;
    list.className = "picker-results";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Matches for " + name.toLowerCase());
    status.className = "picker-status";
    status.setAttribute("role", "status");
    picker.appendChild(search);
    picker.appendChild(status);
    picker.appendChild(list);

    function open(yes) {
      list.hidden = !yes;
      search.setAttribute("aria-expanded", yes ? "true" : "false");
      if (!yes) search.removeAttribute("aria-activedescendant");
    }

    function highlight(n) {
      active = n;
      Array.prototype.forEach.call(list.children, function (option, i) {
        option.setAttribute("aria-selected", i === n ? "true" : "false");
        option.classList.toggle("active", i === n);
        if (i === n) {
          search.setAttribute("aria-activedescendant", option.id);
          option.scrollIntoView({ block: "nearest" });
        }
      });
    }

    function choose(n) {
      var item = results[n];
      if (!item) return;
      idInput.value = item.id;
      label.textContent = item.text;
      search.value = "";
      status.textContent = item.text + " chosen.";
      open(false);
      idInput.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(found) {
      results = found;
      list.innerHTML = "";
      found.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.setAttribute("role", "option");
        option.textContent = item.text + " (#" + item.id + ")";
        option.addEventListener("click", function () { choose(i); search.focus(); });
        list.appendChild(option);
      });
      status.textContent = !found.length ? "No matches." : found.length +
        (found.length === 1 ? " match" : " matches") + ": use the arrow keys, then Enter.";
      open(found.length > 0);
      highlight(found.length ? 0 : -1);
    }

    function ask() {
      clearTimeout(timer);
      var n = asked += 1;
      var url = picker.dataset.autocomplete + "?q=" + encodeURIComponent(search.value.trim());
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (n === asked) show(data.results); })
        .catch(function () { if (n === asked) status.textContent = "The search failed."; });
    }

    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 200);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          if (results.length) { open(true); highlight(0); } else ask();
          return;
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + results.length) % results.length);
      } else if (event.key === "Enter") {
        event.preventDefault();               // never submits the whole form
        if (!list.hidden && active >= 0) choose(active);
        else ask();
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();             // keeps the text: no clearing, no new search
          open(false);
        }
      }
    });
    // A click in the list must not blur the search box first (that would close the list).
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    picker.addEventListener("focusout", function (event) {
      if (!picker.contains(event.relatedTarget)) open(false);
    });
  }

  // (The blank row of an inline group is inside a <template>, out of the document's reach:
  // each copy gets its picker when "Add another" adds it.)
  document.querySelectorAll(".picker[data-autocomplete]").forEach(makePicker);
})();
